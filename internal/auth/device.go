package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A known device is a browser that logged in to an account before: it
// holds a long-lived cookie naming the account, signed with a key only
// the server has. Guessing at the account from elsewhere never slows such
// a browser down or shuts it out (see ratelimit.go). The cookie proves
// only that the browser once knew the password; the password is still
// needed every time.
const (
	deviceCookie   = "ecode_device"
	deviceLifetime = 400 * 24 * time.Hour // the longest browsers keep a cookie
)

// deviceMAC signs that userID logged in from a browser at issued.
func (s *Service) deviceMAC(userID string, issued int64) string {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte("ecode device v1\x00" + userID + "\x00" + strconv.FormatInt(issued, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// rememberDevice gives the browser behind w a known-device cookie for u.
func (s *Service) rememberDevice(w http.ResponseWriter, u *User) {
	issued := time.Now().Unix()
	http.SetCookie(w, &http.Cookie{
		Name:     deviceCookie,
		Value:    "v1." + u.ID + "." + strconv.FormatInt(issued, 10) + "." + s.deviceMAC(u.ID, issued),
		Path:     "/api/auth/",
		MaxAge:   int(deviceLifetime / time.Second),
		HttpOnly: true,
		Secure:   s.opts.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
}

// knownDevice reports whether r comes from a browser that logged in to
// the account userID before.
func (s *Service) knownDevice(r *http.Request, userID string) bool {
	c, err := r.Cookie(deviceCookie)
	if err != nil {
		return false
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 4 || parts[0] != "v1" || parts[1] != userID {
		return false
	}
	issued, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || time.Since(time.Unix(issued, 0)) > deviceLifetime {
		return false
	}
	return hmac.Equal([]byte(parts[3]), []byte(s.deviceMAC(userID, issued)))
}
