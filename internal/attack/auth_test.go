package attack_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"ecode/internal/testserver"
)

// timedLogin posts a username and password and times the answer.
func timedLogin(t *testing.T, c *testserver.Client, name, password string) (*testserver.Response, time.Duration) {
	t.Helper()
	start := time.Now()
	res := c.Post(t, "/api/auth/login", map[string]string{"login": name, "password": password})
	return res, time.Since(start)
}

func medianOf(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// Attack 11a: how long a wrong login takes told which usernames exist
// (2 ms for none, 40-70 ms for a real account with a wrong password).
func TestLoginTimingHidesAccounts(t *testing.T) {
	s := sqlite(t)
	const tries = 30
	var names []string
	for i := range tries / 5 { // five tries each stays under the accounts' slowdown
		names = append(names, s.SignUp(t, fmt.Sprintf("real%d", i)).User.Username)
	}
	var unknown, known []time.Duration
	for i := range tries {
		// A fresh address for each try keeps the per-address limits out of it.
		res, d := timedLogin(t, s.Anonymous().From(fmt.Sprintf("127.0.1.%d", 2*i+1)), fmt.Sprintf("nobody%d", i), "a-wrong-password")
		res.WantError(t, 401, "invalid_credentials")
		unknown = append(unknown, d)
		res, d = timedLogin(t, s.Anonymous().From(fmt.Sprintf("127.0.1.%d", 2*i+2)), names[i%len(names)], "a-wrong-password")
		res.WantError(t, 401, "invalid_credentials")
		known = append(known, d)
	}
	mu, mk := medianOf(unknown), medianOf(known)
	t.Logf("median wrong login: unknown name %v, real account %v", mu, mk)
	if mu*2 < mk || mk*2 < mu {
		t.Fatalf("login time tells accounts apart: unknown name %v, real account %v", mu, mk)
	}
	healthy(t, s)
}

// Attack 11b: ten wrong passwords locked the real owner out.
func TestGuessingDoesNotLockOwnerOut(t *testing.T) {
	s := sqlite(t)
	alice := s.SignUp(t, "alice")
	// Alice logs in from her browser once, then leaves.
	alice.Post(t, "/api/auth/logout", nil).WantStatus(t, 204)
	if res, _ := timedLogin(t, alice, "alice", "password-alice"); res.StatusCode != 200 {
		t.Fatalf("alice's first login: %d %s", res.StatusCode, res.Body)
	}
	alice.Post(t, "/api/auth/logout", nil).WantStatus(t, 204)

	// An attacker guesses from one address until refused.
	attacker := s.Anonymous().From("127.0.0.2")
	refused := 0
	for i := range 40 {
		res, _ := timedLogin(t, attacker, "alice", fmt.Sprintf("guess-%d", i))
		switch res.StatusCode {
		case http.StatusTooManyRequests:
			res.WantError(t, 429, "rate_limited")
			if res.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			refused++
		default:
			res.WantError(t, 401, "invalid_credentials")
		}
	}
	if refused < 20 {
		t.Fatalf("40 guesses from one address, only %d refused", refused)
	}
	// A second address has its own budget: the first one's refusals
	// are not shared with every other address.
	other := s.Anonymous().From("127.0.0.4")
	for i := range 2 {
		res, _ := timedLogin(t, other, "alice", fmt.Sprintf("other-guess-%d", i))
		res.WantError(t, 401, "invalid_credentials")
	}

	// Alice's own browser gets in at once, with no slowdown.
	res, d := timedLogin(t, alice, "alice", "password-alice")
	if res.StatusCode != 200 {
		t.Fatalf("alice locked out of her own browser: %d %s", res.StatusCode, res.Body)
	}
	if d >= 2*time.Second {
		t.Fatalf("alice's own browser waited %v, as the attacker does", d)
	}
	alice.Get(t, "/api/auth/me").WantStatus(t, 200)

	// From a browser and address never seen, she waits a little, but gets in.
	res, d = timedLogin(t, s.Anonymous().From("127.0.0.3"), "alice", "password-alice")
	if res.StatusCode != 200 {
		t.Fatalf("alice locked out from a new address: %d %s", res.StatusCode, res.Body)
	}
	if d > 6*time.Second {
		t.Fatalf("alice waited %v from a new address", d)
	}
	t.Logf("alice from her browser: at once; from a new address: %v", d)

	// The attacker is still refused, even with the right password.
	res, _ = timedLogin(t, attacker, "alice", "password-alice")
	res.WantError(t, 429, "rate_limited")
	healthy(t, s)
}
