package passkey_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/webauthn"

	"ecode/internal/config"
	"ecode/internal/testserver"
)

// The test servers are reached at 127.0.0.1, which WebAuthn refuses as a
// relying party; the software keys speak for a browser at this origin.
const origin = "http://localhost"

func withPasskeys(c *config.Config) { c.PasskeyOrigin = origin }

type passkey struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	CreatedAt      int64  `json:"createdAt"`
	LastUsedAt     *int64 `json:"lastUsedAt"`
	BackupEligible bool   `json:"backupEligible"`
	BackedUp       bool   `json:"backedUp"`
	Discoverable   bool   `json:"discoverable"`
	CloneWarning   bool   `json:"cloneWarning"`
}

func register(t *testing.T, c *testserver.Client, k *softKey, name string) passkey {
	t.Helper()
	opts := c.Post(t, "/api/passkeys/register/begin", map[string]string{"name": name}).WantStatus(t, http.StatusOK)
	var out struct{ Passkey passkey }
	c.Post(t, "/api/passkeys/register/finish", k.create(t, opts.Body)).WantStatus(t, http.StatusCreated).Decode(t, &out)
	return out.Passkey
}

func list(t *testing.T, c *testserver.Client) []passkey {
	t.Helper()
	var out struct{ Passkeys []passkey }
	c.Get(t, "/api/passkeys").WantStatus(t, http.StatusOK).Decode(t, &out)
	return out.Passkeys
}

// passkeyLogin logs c in with k alone, no username or password.
func passkeyLogin(t *testing.T, c *testserver.Client, k *softKey) *testserver.Response {
	t.Helper()
	opts := c.Post(t, "/api/auth/passkey/begin", nil).WantStatus(t, http.StatusOK)
	return c.Post(t, "/api/auth/passkey/finish", k.get(t, opts.Body))
}

// secondFactor answers the pending login's key prompt with k.
func secondFactor(t *testing.T, c *testserver.Client, k *softKey) *testserver.Response {
	t.Helper()
	opts := c.Post(t, "/api/auth/second-factor/begin", nil).WantStatus(t, http.StatusOK)
	return c.Post(t, "/api/auth/second-factor/finish", k.get(t, opts.Body))
}

func passwordLogin(t *testing.T, s *testserver.Server, name string) *testserver.Client {
	t.Helper()
	c := s.Anonymous()
	c.Post(t, "/api/auth/login", map[string]string{"login": name, "password": "password-" + name}).WantStatus(t, http.StatusOK)
	return c
}

func whoAmI(t *testing.T, c *testserver.Client) string {
	t.Helper()
	res := c.Get(t, "/api/auth/me")
	if res.StatusCode == http.StatusUnauthorized {
		return ""
	}
	var out struct{ User struct{ Username string } }
	res.WantStatus(t, http.StatusOK).Decode(t, &out)
	return out.User.Username
}

func TestRegisterListRename(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		laptop := newSoftKey(t, origin, true)
		p := register(t, alice, laptop, "  Laptop key ")
		if p.Name != "Laptop key" || !p.Discoverable || p.BackupEligible || p.LastUsedAt != nil || p.ID != b64.EncodeToString(laptop.id) {
			t.Fatalf("registered %+v", p)
		}
		phone := newSoftKey(t, origin, true)
		phone.synced = true
		if q := register(t, alice, phone, "Phone"); !q.BackupEligible || !q.BackedUp {
			t.Fatalf("a synced passkey was not recorded as backed up: %+v", q)
		}
		yubi := newSoftKey(t, origin, false)
		if q := register(t, alice, yubi, "YubiKey"); q.Discoverable {
			t.Fatalf("a key that keeps no credential is discoverable: %+v", q)
		}
		got := list(t, alice)
		if len(got) != 3 || got[0].Name != "Laptop key" || got[1].Name != "Phone" || got[2].Name != "YubiKey" {
			t.Fatalf("list: %+v", got)
		}

		// The whole credential is kept: key, flags, counter.
		var raw string
		if err := s.App.DB.Get(context.Background(), &raw, `SELECT credential FROM webauthn_credentials WHERE id = ?`, got[1].ID); err != nil {
			t.Fatal(err)
		}
		var cred webauthn.Credential
		if err := json.Unmarshal([]byte(raw), &cred); err != nil || len(cred.PublicKey) == 0 || !cred.Flags.BackupEligible ||
			!cred.Flags.BackupState || cred.AttestationFormat != "none" || len(cred.Transport) != 1 || len(cred.Authenticator.AAGUID) != 16 {
			t.Fatalf("stored credential %s: %v", raw, err)
		}

		var renamed struct{ Passkey passkey }
		alice.Patch(t, "/api/passkeys/"+p.ID, map[string]string{"name": "Work laptop"}).WantStatus(t, http.StatusOK).Decode(t, &renamed)
		if renamed.Passkey.Name != "Work laptop" || list(t, alice)[0].Name != "Work laptop" {
			t.Fatalf("renamed: %+v", renamed.Passkey)
		}
		alice.Patch(t, "/api/passkeys/"+p.ID, map[string]string{"name": " "}).WantError(t, http.StatusBadRequest, "invalid_name")
		alice.Post(t, "/api/passkeys/register/begin", map[string]string{"name": ""}).WantError(t, http.StatusBadRequest, "invalid_name")

		// Someone else's key is not theirs to see, rename, remove or register again.
		bob := s.SignUp(t, "bob")
		if len(list(t, bob)) != 0 {
			t.Fatal("bob sees alice's keys")
		}
		bob.Patch(t, "/api/passkeys/"+p.ID, map[string]string{"name": "mine"}).WantError(t, http.StatusNotFound, "not_found")
		bob.Delete(t, "/api/passkeys/"+p.ID).WantError(t, http.StatusNotFound, "not_found")
		opts := bob.Post(t, "/api/passkeys/register/begin", map[string]string{"name": "stolen"}).WantStatus(t, http.StatusOK)
		bob.Post(t, "/api/passkeys/register/finish", laptop.create(t, opts.Body)).WantError(t, http.StatusConflict, "passkey_exists")

		// An answer is taken once, and only after a begin.
		opts = alice.Post(t, "/api/passkeys/register/begin", map[string]string{"name": "Spare"}).WantStatus(t, http.StatusOK)
		answer := newSoftKey(t, origin, false).create(t, opts.Body)
		alice.Post(t, "/api/passkeys/register/finish", answer).WantStatus(t, http.StatusCreated)
		alice.Post(t, "/api/passkeys/register/finish", answer).WantError(t, http.StatusBadRequest, "no_ceremony")

		// An answer for another site is refused.
		opts = alice.Post(t, "/api/passkeys/register/begin", map[string]string{"name": "Phish"}).WantStatus(t, http.StatusOK)
		phished := newSoftKey(t, "http://evil.example", false)
		alice.Post(t, "/api/passkeys/register/finish", phished.create(t, opts.Body)).WantError(t, http.StatusBadRequest, "passkey_rejected")

		s.Anonymous().Get(t, "/api/passkeys").WantError(t, http.StatusUnauthorized, "unauthenticated")
	}, withPasskeys)
}

func TestLoginWithPasskey(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		k := newSoftKey(t, origin, true)
		register(t, alice, k, "Laptop key")

		c := s.Anonymous()
		var out struct{ User struct{ Username string } }
		passkeyLogin(t, c, k).WantStatus(t, http.StatusOK).Decode(t, &out)
		if out.User.Username != "alice" || whoAmI(t, c) != "alice" {
			t.Fatalf("logged in as %q", out.User.Username)
		}
		p := list(t, c)[0]
		if p.LastUsedAt == nil {
			t.Fatalf("use not recorded: %+v", p)
		}
		var count int64
		if err := s.App.DB.Get(context.Background(), &count, `SELECT sign_count FROM webauthn_credentials WHERE id = ?`, p.ID); err != nil || count != 1 {
			t.Fatalf("sign count %d, %v; want 1", count, err)
		}

		// A key nobody registered, and a key claiming another account, log nobody in.
		stranger := s.Anonymous()
		passkeyLogin(t, stranger, newSoftKey(t, origin, true)).WantError(t, http.StatusUnauthorized, "passkey_not_recognized")
		bob := s.SignUp(t, "bob")
		bobKey := newSoftKey(t, origin, true)
		register(t, bob, bobKey, "Bob's key")
		bobKey.userHandle = k.userHandle
		passkeyLogin(t, stranger, bobKey).WantError(t, http.StatusUnauthorized, "passkey_not_recognized")
		// Alone, a passkey must verify its user, not only be touched.
		k.presence = true
		passkeyLogin(t, stranger, k).WantError(t, http.StatusUnauthorized, "passkey_not_recognized")
		k.presence = false
		// A signature by the wrong key for a registered credential id.
		forged := newSoftKey(t, origin, true)
		forged.id, forged.userHandle = k.id, k.userHandle
		passkeyLogin(t, stranger, forged).WantError(t, http.StatusUnauthorized, "passkey_not_recognized")
		if whoAmI(t, stranger) != "" {
			t.Fatal("a refused passkey logged someone in")
		}
		// Finishing without beginning.
		stranger.Post(t, "/api/auth/passkey/finish", k.get(t, []byte(`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rpId":"localhost"}}`))).
			WantError(t, http.StatusBadRequest, "no_ceremony")
	}, withPasskeys)
}

func TestSecondFactor(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		alice.Put(t, "/api/auth/second-factor", map[string]bool{"required": true}).WantError(t, http.StatusConflict, "no_security_key")
		yubi := newSoftKey(t, origin, false)
		register(t, alice, yubi, "YubiKey")
		var out struct{ User struct{ RequireKey bool } }
		alice.Put(t, "/api/auth/second-factor", map[string]bool{"required": true}).WantStatus(t, http.StatusOK).Decode(t, &out)
		if !out.User.RequireKey {
			t.Fatal("requireKey not on")
		}
		bob := s.SignUp(t, "bob")
		bobKey := newSoftKey(t, origin, false)
		register(t, bob, bobKey, "Bob's key")

		// The password alone: no session, the key is asked next.
		c := s.Anonymous()
		var pending struct {
			User         *struct{}
			SecondFactor string
			Username     string
		}
		c.Post(t, "/api/auth/login", map[string]string{"login": "alice", "password": "password-alice"}).WantStatus(t, http.StatusOK).Decode(t, &pending)
		if pending.User != nil || pending.SecondFactor != "webauthn" || pending.Username != "alice" {
			t.Fatalf("login answered %+v", pending)
		}
		if whoAmI(t, c) != "" {
			t.Fatal("logged in on the password alone")
		}
		// Bob's key is not alice's second factor.
		secondFactor(t, c, bobKey).WantError(t, http.StatusUnauthorized, "key_not_accepted")
		if whoAmI(t, c) != "" {
			t.Fatal("another account's key completed the login")
		}
		var done struct{ User struct{ Username string } }
		yubi.presence = true // after the password, a touch is enough
		secondFactor(t, c, yubi).WantStatus(t, http.StatusOK).Decode(t, &done)
		if done.User.Username != "alice" || whoAmI(t, c) != "alice" {
			t.Fatalf("after the key: %+v", done)
		}
		// The pending login is spent.
		c.Post(t, "/api/auth/second-factor/begin", nil).WantError(t, http.StatusUnauthorized, "no_pending_login")

		// Without a password first there is nothing to confirm.
		s.Anonymous().Post(t, "/api/auth/second-factor/begin", nil).WantError(t, http.StatusUnauthorized, "no_pending_login")

		// Turned off, the password is enough again.
		alice.Put(t, "/api/auth/second-factor", map[string]bool{"required": false}).WantStatus(t, http.StatusOK)
		if whoAmI(t, passwordLogin(t, s, "alice")) != "alice" {
			t.Fatal("password login after turning the requirement off")
		}
		alice.Put(t, "/api/auth/second-factor", map[string]any{}).WantError(t, http.StatusBadRequest, "invalid_required")
	}, withPasskeys)
}

func TestReplayedCounterRefused(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		k := newSoftKey(t, origin, true)
		register(t, alice, k, "Laptop key")
		passkeyLogin(t, s.Anonymous(), k).WantStatus(t, http.StatusOK) // counter 1

		k.counter = 0 // a copy of the key, signing counter 1 again
		c := s.Anonymous()
		passkeyLogin(t, c, k).WantError(t, http.StatusUnauthorized, "cloned_authenticator")
		if whoAmI(t, c) != "" {
			t.Fatal("a replayed counter logged in")
		}
		if p := list(t, alice)[0]; !p.CloneWarning {
			t.Fatalf("clone warning not kept: %+v", p)
		}

		k.counter = 9
		passkeyLogin(t, s.Anonymous(), k).WantStatus(t, http.StatusOK) // counter 10
		k.counter = 3
		passkeyLogin(t, c, k).WantError(t, http.StatusUnauthorized, "cloned_authenticator") // counter 4 < 10

		// The same as a second factor.
		alice.Put(t, "/api/auth/second-factor", map[string]bool{"required": true}).WantStatus(t, http.StatusOK)
		c = passwordLogin(t, s, "alice")
		secondFactor(t, c, k).WantError(t, http.StatusUnauthorized, "cloned_authenticator")
		if whoAmI(t, c) != "" {
			t.Fatal("a lower counter completed the second factor")
		}
		k.counter = 10
		secondFactor(t, c, k).WantStatus(t, http.StatusOK)
	}, withPasskeys)
}

func TestDeleteKeepsAWayIn(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		// An account with a password may remove its passkey.
		alice := s.SignUp(t, "alice")
		p := register(t, alice, newSoftKey(t, origin, true), "Laptop key")
		alice.Delete(t, "/api/passkeys/"+p.ID).WantStatus(t, http.StatusNoContent)
		if len(list(t, alice)) != 0 {
			t.Fatal("key not removed")
		}
		alice.Delete(t, "/api/passkeys/"+p.ID).WantError(t, http.StatusNotFound, "not_found")

		// The last key is kept while logins require one.
		yubi := register(t, alice, newSoftKey(t, origin, false), "YubiKey")
		alice.Put(t, "/api/auth/second-factor", map[string]bool{"required": true}).WantStatus(t, http.StatusOK)
		alice.Delete(t, "/api/passkeys/"+yubi.ID).WantError(t, http.StatusConflict, "last_security_key")
		alice.Put(t, "/api/auth/second-factor", map[string]bool{"required": false}).WantStatus(t, http.StatusOK)
		alice.Delete(t, "/api/passkeys/"+yubi.ID).WantStatus(t, http.StatusNoContent)

		// An account with no password (as one made through a provider is)
		// keeps its last passkey.
		carol := s.SignUp(t, "carol")
		first := newSoftKey(t, origin, true)
		p = register(t, carol, first, "Laptop key")
		if _, err := s.App.DB.Exec(context.Background(), `UPDATE users SET password_hash = '' WHERE id = ?`, carol.User.ID); err != nil {
			t.Fatal(err)
		}
		carol.Delete(t, "/api/passkeys/"+p.ID).WantError(t, http.StatusConflict, "last_login_method")
		// A key that cannot log in alone does not count.
		register(t, carol, newSoftKey(t, origin, false), "YubiKey")
		carol.Delete(t, "/api/passkeys/"+p.ID).WantError(t, http.StatusConflict, "last_login_method")
		second := register(t, carol, newSoftKey(t, origin, true), "Phone")
		carol.Delete(t, "/api/passkeys/"+p.ID).WantStatus(t, http.StatusNoContent)
		carol.Delete(t, "/api/passkeys/"+second.ID).WantError(t, http.StatusConflict, "last_login_method")
		passkeyLogin(t, s.Anonymous(), first).WantError(t, http.StatusUnauthorized, "passkey_not_recognized")
	}, withPasskeys)
}

// availability is GET /api/auth/passkey as c sees it.
func availability(t *testing.T, c *testserver.Client) (a struct {
	Available bool   `json:"available"`
	Origin    string `json:"origin"`
	Message   string `json:"message"`
}) {
	t.Helper()
	c.Get(t, "/api/auth/passkey").WantStatus(t, http.StatusOK).Decode(t, &a)
	return
}

// A server reached by an IP address that is not loopback cannot offer
// passkeys, and says how to turn them on.
func TestPasskeysNeedADomain(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		s.Anonymous().Post(t, "/api/auth/passkey/begin", nil).WantError(t, http.StatusServiceUnavailable, "passkeys_unavailable")
		alice := s.SignUp(t, "alice")
		alice.Post(t, "/api/passkeys/register/begin", map[string]string{"name": "Laptop"}).WantError(t, http.StatusServiceUnavailable, "passkeys_unavailable")
		if len(list(t, alice)) != 0 {
			t.Fatal("listing should still work")
		}
		a := availability(t, s.Anonymous())
		if a.Available || !strings.Contains(a.Message, "ECODE_PASSKEY_ORIGIN") {
			t.Fatalf("availability = %+v, want off with how to turn passkeys on", a)
		}
	}, func(c *config.Config) { c.PasskeyOrigin = "http://192.0.2.10:8080" })
}

// At the default public URL, a loopback IP, passkeys work at localhost on
// the same port, and the sign-in page learns where.
func TestPasskeysAtLoopbackDefaultToLocalhost(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		want := "http://localhost:" + u.Port()
		if a := availability(t, s.Anonymous()); !a.Available || a.Origin != want || a.Message != "" {
			t.Fatalf("availability = %+v, want on at %s", a, want)
		}
		alice := s.SignUp(t, "alice")
		register(t, alice, newSoftKey(t, want, true), "Laptop")
	})
}
