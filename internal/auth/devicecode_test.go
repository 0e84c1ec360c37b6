package auth_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"ecode/internal/testserver"
)

// deviceCodes is the answer of POST /api/auth/device/code.
type deviceCodes struct {
	DeviceCode, UserCode, VerificationURI, VerificationURIComplete string
	ExpiresIn, Interval                                            int
}

// startDevice starts a device login as a device with no account would.
func startDevice(t *testing.T, s *testserver.Server, clientName string) deviceCodes {
	t.Helper()
	var out deviceCodes
	s.Anonymous().Post(t, "/api/auth/device/code", map[string]string{"clientName": clientName}).WantStatus(t, 200).Decode(t, &out)
	return out
}

// poll polls for the device login's token.
func poll(t *testing.T, s *testserver.Server, d deviceCodes) *testserver.Response {
	t.Helper()
	return s.Anonymous().Post(t, "/api/auth/device/token", map[string]string{"deviceCode": d.DeviceCode})
}

// waited makes the server see the device's last poll as seconds ago, as
// if it had waited that long.
func waited(t *testing.T, s *testserver.Server, d deviceCodes, seconds int) {
	t.Helper()
	if _, err := s.App.DB.Exec(t.Context(), `UPDATE device_codes SET polled_at = polled_at - ? WHERE user_code = ?`,
		seconds*1000, strings.ReplaceAll(d.UserCode, "-", "")); err != nil {
		t.Fatal(err)
	}
}

func intervalOf(t *testing.T, s *testserver.Server, d deviceCodes) int {
	t.Helper()
	var n int
	if err := s.App.DB.Get(t.Context(), &n, `SELECT interval_sec FROM device_codes WHERE user_code = ?`, strings.ReplaceAll(d.UserCode, "-", "")); err != nil {
		t.Fatal(err)
	}
	return n
}

var userCodeRE = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

func TestDeviceLogin(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		d := startDevice(t, s, "ecode CLI on box")
		if !userCodeRE.MatchString(d.UserCode) || len(d.DeviceCode) < 20 || d.ExpiresIn != 600 || d.Interval != 5 ||
			d.VerificationURI != s.URL+"/device" || d.VerificationURIComplete != d.VerificationURI+"?code="+d.UserCode {
			t.Fatalf("codes = %+v", d)
		}
		var n int
		if err := s.App.DB.Get(t.Context(), &n, `SELECT COUNT(*) FROM device_codes WHERE device_hash = ?`, d.DeviceCode); err != nil || n != 0 {
			t.Fatalf("the device code is stored in the clear (%d rows, %v)", n, err)
		}

		// Polling: pending; too soon, slow down, and the interval grows by 5 s each time.
		poll(t, s, d).WantError(t, 400, "authorization_pending")
		poll(t, s, d).WantError(t, 400, "slow_down")
		if got := intervalOf(t, s, d); got != 10 {
			t.Fatalf("interval after slow_down = %d, want 10", got)
		}
		waited(t, s, d, 7)
		poll(t, s, d).WantError(t, 400, "slow_down")
		if got := intervalOf(t, s, d); got != 15 {
			t.Fatalf("interval after a second slow_down = %d, want 15", got)
		}
		waited(t, s, d, 15)
		poll(t, s, d).WantError(t, 400, "authorization_pending")

		// The approval page finds the request by its code as a person types it.
		typed := url.QueryEscape(strings.ToLower(strings.ReplaceAll(d.UserCode, "-", " ")))
		s.Anonymous().Get(t, "/api/auth/device?code="+typed).WantError(t, 401, "unauthenticated")
		var req struct {
			UserCode, ClientName string
			CreatedAt, ExpiresAt int64
		}
		alice.Get(t, "/api/auth/device?code="+typed).WantStatus(t, 200).Decode(t, &req)
		if req.UserCode != d.UserCode || req.ClientName != "ecode CLI on box" || req.ExpiresAt-req.CreatedAt != 600_000 {
			t.Fatalf("pending request = %+v", req)
		}
		alice.Post(t, "/api/auth/device/approve", map[string]any{"userCode": strings.ToLower(d.UserCode), "approve": true}).WantStatus(t, http.StatusNoContent)
		alice.Get(t, "/api/auth/device?code="+d.UserCode).WantError(t, 404, "unknown_user_code")
		alice.Post(t, "/api/auth/device/approve", map[string]any{"userCode": d.UserCode, "approve": false}).WantError(t, 404, "unknown_user_code")

		// The next poll answers a token, once.
		waited(t, s, d, 15)
		var got struct {
			Token string
			User  testserver.User
		}
		poll(t, s, d).WantStatus(t, 200).Decode(t, &got)
		if !strings.HasPrefix(got.Token, "ecode_") || got.User.Username != "alice" {
			t.Fatalf("token answer = %+v", got)
		}
		waited(t, s, d, 15)
		poll(t, s, d).WantError(t, 400, "invalid_grant")

		cli := s.Anonymous()
		cli.Token = got.Token
		cli.Get(t, "/api/auth/me").WantStatus(t, 200)
		var tokens struct{ Tokens []struct{ Name string } }
		alice.Get(t, "/api/tokens").WantStatus(t, 200).Decode(t, &tokens)
		if len(tokens.Tokens) != 1 || tokens.Tokens[0].Name != "ecode CLI on box" {
			t.Fatalf("tokens = %+v, want the one named after the client", tokens.Tokens)
		}
		var log struct{ Entries []struct{ Action string } }
		alice.Get(t, "/api/user/audit").WantStatus(t, 200).Decode(t, &log)
		actions := map[string]bool{}
		for _, e := range log.Entries {
			actions[e.Action] = true
		}
		if !actions["device.approve"] || !actions["token.create"] {
			t.Fatalf("security log lacks the approval or the token: %+v", log.Entries)
		}

		// The token revokes itself; a session has no token to revoke.
		alice.Delete(t, "/api/tokens/current").WantError(t, 400, "not_a_token")
		cli.Delete(t, "/api/tokens/current").WantStatus(t, http.StatusNoContent)
		cli.Get(t, "/api/auth/me").WantError(t, 401, "invalid_token")
		cli.Delete(t, "/api/tokens/current").WantError(t, 401, "invalid_token")
	})
}

func TestDeviceLoginRefused(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		bob := s.SignUp(t, "bob")

		denied := startDevice(t, s, "")
		var req struct{ ClientName string }
		bob.Get(t, "/api/auth/device?code="+denied.UserCode).WantStatus(t, 200).Decode(t, &req)
		if req.ClientName != "Device login" {
			t.Fatalf("a nameless client is shown as %q", req.ClientName)
		}
		bob.Post(t, "/api/auth/device/approve", map[string]any{"userCode": denied.UserCode}).WantError(t, 400, "invalid_decision")
		bob.Post(t, "/api/auth/device/approve", map[string]any{"userCode": denied.UserCode, "approve": false}).WantStatus(t, http.StatusNoContent)
		poll(t, s, denied).WantError(t, 400, "access_denied")
		waited(t, s, denied, 5)
		poll(t, s, denied).WantError(t, 400, "invalid_grant")

		expired := startDevice(t, s, "ecode CLI")
		if _, err := s.App.DB.Exec(t.Context(), `UPDATE device_codes SET expires_at = 1 WHERE user_code = ?`,
			strings.ReplaceAll(expired.UserCode, "-", "")); err != nil {
			t.Fatal(err)
		}
		poll(t, s, expired).WantError(t, 400, "expired_token")
		bob.Get(t, "/api/auth/device?code="+expired.UserCode).WantError(t, 404, "unknown_user_code")
		bob.Post(t, "/api/auth/device/approve", map[string]any{"userCode": expired.UserCode, "approve": true}).WantError(t, 404, "unknown_user_code")
		// Swept when a later login starts.
		startDevice(t, s, "ecode CLI")
		poll(t, s, expired).WantError(t, 400, "invalid_grant")

		s.Anonymous().Post(t, "/api/auth/device/token", map[string]string{"deviceCode": "not-a-code"}).WantError(t, 400, "invalid_grant")
		s.Anonymous().Post(t, "/api/auth/device/token", map[string]string{}).WantError(t, 400, "invalid_grant")
		s.Anonymous().Post(t, "/api/auth/device/code", map[string]string{"clientName": "bell\a"}).WantError(t, 400, "invalid_client_name")
		s.Anonymous().Post(t, "/api/auth/device/code", map[string]string{"clientName": strings.Repeat("x", 65)}).WantError(t, 400, "invalid_client_name")
		s.Anonymous().Post(t, "/api/auth/device/code", nil).WantStatus(t, 200)
		bob.Get(t, "/api/auth/device?code=AEIO-U123").WantError(t, 404, "unknown_user_code")
	})
}

// Wrong user codes are limited per account and per address; so are the
// logins one address starts.
func TestDeviceLoginLimits(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		carol := s.SignUp(t, "carol")
		d := startDevice(t, s, "ecode CLI")
		untilLimited(t, 30, "wrong user codes", 404, "unknown_user_code", func() *testserver.Response {
			return carol.Get(t, "/api/auth/device?code=BBBB-BBBB")
		})
		// Now carol is refused even the right code, from anywhere...
		carol.Get(t, "/api/auth/device?code="+d.UserCode).WantError(t, 429, "rate_limited")
		carol.From("127.0.0.6").Post(t, "/api/auth/device/approve", map[string]any{"userCode": d.UserCode, "approve": true}).
			WantError(t, 429, "rate_limited")
		// ...and so is anyone from her address; others elsewhere are not.
		dave := s.SignUp(t, "dave")
		dave.Get(t, "/api/auth/device?code="+d.UserCode).WantError(t, 429, "rate_limited")
		dave.From("127.0.0.7").Get(t, "/api/auth/device?code="+d.UserCode).WantStatus(t, 200)

		for i := range 40 {
			res := s.Anonymous().From("127.0.0.8").Post(t, "/api/auth/device/code", nil)
			if res.StatusCode == http.StatusTooManyRequests {
				res.WantError(t, 429, "rate_limited")
				return
			}
			res.WantStatus(t, 200)
			if i > 30 {
				t.Fatal("more than 30 device logins from one address at once")
			}
		}
	})
}
