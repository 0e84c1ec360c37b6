package auth

// Device login (RFC 8628, the OAuth 2.0 device authorization grant) gives
// a program without a browser, such as the CLI, a personal API token. It
// asks for a pair of codes, shows its person the short user code and where
// to enter it, and polls with the long device code. The person, logged in
// in any browser, enters the user code at /device and approves or denies;
// the device's next poll answers a new API token named after the client,
// once, and the request is gone. The device code is a secret kept only as
// its hash. The user code is short enough to type, so wrong ones are
// limited per account and per address.

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"ecode/internal/errs"
	"ecode/internal/store"
)

const (
	deviceCodeLifetime = 10 * time.Minute
	// Expired requests stay this long after they expire, so that a device
	// polling late still hears expired_token rather than invalid_grant.
	deviceCodeKept = 10 * time.Minute
	devicePollSec  = 5 // the interval a device starts polling at, in seconds
	slowDownSec    = 5 // added to the interval each time a device polls too fast (RFC 8628 §3.5)

	// No vowels (no words spelt by chance) and nothing that looks like
	// another character (RFC 8628 §6.1): 20^8 codes.
	userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
	userCodeLength   = 8

	// The token is named after the client, and a token's name is at most
	// 64 characters.
	maxClientName     = 64
	defaultClientName = "Device login"

	devicesPerMinute, devicesBurst = 10, 20 // device codes issued to one address
	guessesPerMinute, guessesBurst = 6, 10  // wrong user codes from one account, or from one address
)

// Where a device login stands.
const (
	devicePending  = "pending"
	deviceApproved = "approved"
	deviceDenied   = "denied"
)

// DeviceCodes is what a device gets when it starts a login (RFC 8628 §3.2).
type DeviceCodes struct {
	DeviceCode              string `json:"deviceCode"`
	UserCode                string `json:"userCode"` // XXXX-XXXX
	VerificationURI         string `json:"verificationUri"`
	VerificationURIComplete string `json:"verificationUriComplete"`
	ExpiresIn               int    `json:"expiresIn"` // seconds
	Interval                int    `json:"interval"`  // seconds between polls
}

// DeviceRequest is a pending device login as its approval page shows it.
type DeviceRequest struct {
	UserCode   string `json:"userCode" db:"user_code"`
	ClientName string `json:"clientName" db:"client_name"`
	CreatedAt  int64  `json:"createdAt" db:"created_at"`
	ExpiresAt  int64  `json:"expiresAt" db:"expires_at"`
}

// The answers of a poll that yields no token (RFC 8628 §3.5), and of a
// user code that names no pending login.
var (
	errAuthorizationPending = errs.Invalid("authorization_pending", "The login has not been approved in the browser yet; poll again after the interval.")
	errAccessDenied         = errs.Invalid("access_denied", "The login was denied in the browser.")
	errExpiredToken         = errs.Invalid("expired_token", "The code expired before the login was approved; start the login again.")
	errInvalidGrant         = errs.Invalid("invalid_grant", "No device login has this device code; start the login again.")
	errUnknownUserCode      = errs.NotFound("unknown_user_code",
		"No login is waiting for this code. Check it against your terminal, or start the login again for a new one.")
)

// StartDeviceLogin issues the codes of a new device login to the device
// behind r, calling itself clientName (empty for a default).
func (s *Service) StartDeviceLogin(ctx context.Context, r *http.Request, clientName string) (*DeviceCodes, error) {
	name, err := cleanClientName(clientName)
	if err != nil {
		return nil, err
	}
	if wait := s.devices.take(ClientIP(r)); wait > 0 {
		return nil, rateLimited(wait)
	}
	now := store.Now()
	// Swept as new ones come: an indexed delete, and no timer to run.
	if _, err := s.db.Exec(ctx, `DELETE FROM device_codes WHERE expires_at <= ?`, now-deviceCodeKept.Milliseconds()); err != nil {
		return nil, fmt.Errorf("sweep device logins: %w", err)
	}
	device := rand.Text()
	var user string
	for attempt := 1; ; attempt++ {
		user = newUserCode()
		_, err = s.db.Exec(ctx, `INSERT INTO device_codes (id, device_hash, user_code, client_name, status, interval_sec, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			store.NewID(), hashToken(device), user, name, devicePending, devicePollSec, now, now+deviceCodeLifetime.Milliseconds())
		if err == nil {
			break
		}
		// A user code drawn twice among the live ones: rare, so draw again.
		if !store.IsUnique(err) || attempt == 3 {
			return nil, fmt.Errorf("insert device login: %w", err)
		}
	}
	page := s.origin(r) + "/device"
	return &DeviceCodes{
		DeviceCode:              device,
		UserCode:                formatUserCode(user),
		VerificationURI:         page,
		VerificationURIComplete: page + "?code=" + formatUserCode(user),
		ExpiresIn:               int(deviceCodeLifetime / time.Second),
		Interval:                devicePollSec,
	}, nil
}

// deviceLogin is a device login as stored.
type deviceLogin struct {
	ID        string `db:"id"`
	Status    string `db:"status"`
	Interval  int64  `db:"interval_sec"`
	PolledAt  *int64 `db:"polled_at"`
	ExpiresAt int64  `db:"expires_at"`
}

// PollDeviceLogin answers a device's poll with its device code (RFC 8628
// §3.4): once the login is approved, a new API token and its account, a
// single time; until then an error that says where the login stands.
func (s *Service) PollDeviceLogin(ctx context.Context, deviceCode string) (string, *User, error) {
	if deviceCode == "" || len(deviceCode) > 128 {
		return "", nil, errInvalidGrant
	}
	var d deviceLogin
	err := s.db.Get(ctx, &d, `SELECT id, status, interval_sec, polled_at, expires_at
		FROM device_codes WHERE device_hash = ?`, hashToken(deviceCode))
	if store.NoRows(err) {
		return "", nil, errInvalidGrant
	}
	if err != nil {
		return "", nil, fmt.Errorf("find device login: %w", err)
	}
	now := store.Now()
	if d.ExpiresAt <= now {
		return "", nil, errExpiredToken
	}
	if d.PolledAt != nil && now-*d.PolledAt < d.Interval*1000 {
		d.Interval += slowDownSec
		if err := s.polled(ctx, d.ID, now, d.Interval); err != nil {
			return "", nil, err
		}
		return "", nil, errs.Invalid("slow_down", "Polling too often: wait %d seconds between polls.", d.Interval)
	}
	switch d.Status {
	case deviceApproved:
		return s.handOver(ctx, d.ID)
	case deviceDenied:
		if _, err := s.db.Exec(ctx, `DELETE FROM device_codes WHERE id = ?`, d.ID); err != nil {
			return "", nil, fmt.Errorf("end denied device login: %w", err)
		}
		return "", nil, errAccessDenied
	}
	if err := s.polled(ctx, d.ID, now, d.Interval); err != nil {
		return "", nil, err
	}
	return "", nil, errAuthorizationPending
}

// polled notes a poll of device login id at now, and the interval the
// device must keep from now on.
func (s *Service) polled(ctx context.Context, id string, now, interval int64) error {
	if _, err := s.db.Exec(ctx, `UPDATE device_codes SET polled_at = ?, interval_sec = ? WHERE id = ?`, now, interval, id); err != nil {
		return fmt.Errorf("note device poll: %w", err)
	}
	return nil
}

// handOver issues the token of the approved device login id after
// claiming the login by deleting it: of two polls at once, one gets the
// token, the other hears invalid_grant.
func (s *Service) handOver(ctx context.Context, id string) (string, *User, error) {
	var claimed struct {
		UserID string `db:"user_id"`
		Name   string `db:"client_name"`
	}
	err := s.db.Get(ctx, &claimed, `DELETE FROM device_codes WHERE id = ? AND status = ? RETURNING user_id, client_name`, id, deviceApproved)
	if store.NoRows(err) {
		return "", nil, errInvalidGrant
	}
	if err != nil {
		return "", nil, fmt.Errorf("claim device login: %w", err)
	}
	u, err := s.UserByID(ctx, claimed.UserID)
	if err != nil {
		return "", nil, err
	}
	if u.DisabledAt != nil {
		return "", nil, errDisabled
	}
	secret, _, err := s.CreateToken(ctx, u, claimed.Name, 0)
	return secret, u, err
}

// PendingDeviceLogin is the login waiting for userCode, for u to approve
// or deny from r.
func (s *Service) PendingDeviceLogin(ctx context.Context, r *http.Request, u *User, userCode string) (*DeviceRequest, error) {
	var d DeviceRequest
	err := s.byUserCode(r, u, userCode, func(code string) error {
		return s.db.Get(ctx, &d, `SELECT user_code, client_name, created_at, expires_at FROM device_codes
			WHERE user_code = ? AND status = ? AND expires_at > ?`, code, devicePending, store.Now())
	})
	if err != nil {
		return nil, err
	}
	d.UserCode = formatUserCode(d.UserCode)
	return &d, nil
}

// DecideDeviceLogin approves, or denies, for u the login waiting for
// userCode; the device's next poll hears it.
func (s *Service) DecideDeviceLogin(ctx context.Context, r *http.Request, u *User, userCode string, approve bool) error {
	status, action := deviceDenied, "device.deny"
	if approve {
		status, action = deviceApproved, "device.approve"
	}
	var name string
	err := s.byUserCode(r, u, userCode, func(code string) error {
		return s.db.Get(ctx, &name, `UPDATE device_codes SET status = ?, user_id = ?
			WHERE user_code = ? AND status = ? AND expires_at > ? RETURNING client_name`,
			status, u.ID, code, devicePending, store.Now())
	})
	if err != nil {
		return err
	}
	s.audit.Record(ctx, u.AuditActor(), action, u.AuditTarget(), map[string]any{"client": name})
	return nil
}

// byUserCode runs find, a query of one row, with userCode in its stored
// form, counting a code that finds nothing against u and r's address: a
// person mistypes now and then, someone guessing many times.
func (s *Service) byUserCode(r *http.Request, u *User, userCode string, find func(code string) error) error {
	keys := []string{"user:" + u.ID, "ip:" + ClientIP(r)}
	for _, k := range keys {
		if wait := s.guesses.wait(k); wait > 0 {
			return rateLimited(wait)
		}
	}
	if code, ok := normalizeUserCode(userCode); ok {
		err := find(code)
		if err == nil {
			return nil
		}
		if !store.NoRows(err) {
			return fmt.Errorf("find device login: %w", err)
		}
	}
	for _, k := range keys {
		s.guesses.take(k)
	}
	return errUnknownUserCode
}

// origin is where browsers reach the platform.
func (s *Service) origin(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimSuffix(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func cleanClientName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return defaultClientName, nil
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxClientName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", errs.Invalid("invalid_client_name", "clientName must be at most %d characters, none of them control characters.", maxClientName)
	}
	return name, nil
}

// newUserCode draws a user code, each letter equally likely.
func newUserCode() string {
	code := make([]byte, 0, userCodeLength)
	var buf [16]byte
	for len(code) < userCodeLength {
		rand.Read(buf[:]) // never fails: it crashes the program instead
		for _, b := range buf {
			// 240 is the largest multiple of the alphabet's 20 letters
			// that a byte holds; bytes above it would favour the first.
			if b < 240 && len(code) < userCodeLength {
				code = append(code, userCodeAlphabet[int(b)%len(userCodeAlphabet)])
			}
		}
	}
	return string(code)
}

// normalizeUserCode turns a user code as a person types it (any case,
// with or without its dash, spaces) into its stored form; false when it
// cannot be one.
func normalizeUserCode(s string) (string, bool) {
	s = strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(s))
	if len(s) != userCodeLength || strings.Trim(s, userCodeAlphabet) != "" {
		return "", false
	}
	return s, true
}

// formatUserCode shows a stored user code as people read it: XXXX-XXXX.
func formatUserCode(code string) string {
	return code[:userCodeLength/2] + "-" + code[userCodeLength/2:]
}
