package auth_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"ecode/internal/testserver"
)

type session struct {
	ID, IP, UserAgent, Browser, Device string
	CreatedAt, LastSeen                int64
	Current                            bool
}

func sessions(t *testing.T, c *testserver.Client) []session {
	t.Helper()
	var out struct{ Sessions []session }
	c.Get(t, "/api/auth/sessions").WantStatus(t, 200).Decode(t, &out)
	return out.Sessions
}

// login opens another session of name, as another browser would.
func login(t *testing.T, s *testserver.Server, name, password, agent string) *testserver.Client {
	t.Helper()
	c := s.Anonymous()
	c.Header = http.Header{"User-Agent": {agent}}
	c.Post(t, "/api/auth/login", map[string]string{"login": name, "password": password}).WantStatus(t, 200)
	return c
}

const (
	firefoxLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
	safariPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
)

func TestSessionsListedAndEnded(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		s.SignUp(t, "ann")
		laptop := login(t, s, "ann", "password-ann", firefoxLinux)
		phone := login(t, s, "ann", "password-ann", safariPhone)
		tablet := login(t, s, "ann", "password-ann", safariPhone)

		list := sessions(t, laptop)
		if len(list) != 4 || !list[0].Current || list[0].Browser != "Firefox" || list[0].Device != "Linux" || list[0].IP != "127.0.0.1" {
			t.Fatalf("sessions = %+v", list)
		}
		var phoneID string
		for _, x := range sessions(t, phone) {
			if x.Current {
				phoneID = x.ID
				if x.Browser != "Safari" || x.Device != "iOS" {
					t.Fatalf("phone session = %+v", x)
				}
			}
		}
		// Ending one session refuses its cookie at once.
		laptop.Delete(t, "/api/auth/sessions/"+phoneID).WantStatus(t, 204)
		phone.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")
		tablet.Get(t, "/api/auth/me").WantStatus(t, 200)
		laptop.Delete(t, "/api/auth/sessions/"+phoneID).WantError(t, 404, "not_found")

		// Someone else cannot end or see ann's sessions.
		bob := s.SignUp(t, "bob")
		bob.Delete(t, "/api/auth/sessions/"+sessions(t, tablet)[0].ID).WantError(t, 404, "not_found")
		if len(sessions(t, bob)) != 1 {
			t.Fatal("bob sees sessions not his")
		}

		// End all others: only the current one is left.
		laptop.Delete(t, "/api/auth/sessions").WantStatus(t, 204)
		tablet.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")
		if list := sessions(t, laptop); len(list) != 1 || !list[0].Current {
			t.Fatalf("after ending others: %+v", list)
		}
		s.Anonymous().Get(t, "/api/auth/sessions").WantError(t, 401, "unauthenticated")
	})
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		cy := s.SignUp(t, "cyd")
		other := login(t, s, "cyd", "password-cyd", firefoxLinux)
		cy.Post(t, "/api/auth/password", map[string]string{"currentPassword": "wrong", "newPassword": "a new secret 1"}).WantError(t, 400, "wrong_password")
		cy.Post(t, "/api/auth/password", map[string]string{"currentPassword": "password-cyd", "newPassword": "short"}).WantStatus(t, 400)
		cy.Post(t, "/api/auth/password", map[string]string{"currentPassword": "password-cyd", "newPassword": "a new secret 1"}).WantStatus(t, 204)
		other.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")
		cy.Get(t, "/api/auth/me").WantStatus(t, 200)
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "cyd", "password": "password-cyd"}).WantError(t, 401, "invalid_credentials")
		login(t, s, "cyd", "a new secret 1", firefoxLinux)
	})
}

func TestAccountChanges(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		dee := s.SignUp(t, "dee")
		s.SignUp(t, "eve")
		var out struct{ User testserver.User }
		dee.Patch(t, "/api/auth/me", map[string]string{"username": "Dee-Two"}).WantStatus(t, 200).Decode(t, &out)
		if out.User.Username != "dee-two" {
			t.Fatalf("renamed = %+v", out.User)
		}
		dee.Patch(t, "/api/auth/me", map[string]string{"username": "eve"}).WantError(t, 409, "username_taken")
		dee.Patch(t, "/api/auth/me", map[string]string{"username": "no spaces"}).WantStatus(t, 400)
		// A new email needs the password.
		dee.Patch(t, "/api/auth/me", map[string]string{"email": "dee@new.example"}).WantError(t, 400, "wrong_password")
		dee.Patch(t, "/api/auth/me", map[string]string{"email": "eve@example.com", "currentPassword": "password-dee"}).WantError(t, 409, "email_taken")
		dee.Patch(t, "/api/auth/me", map[string]string{"email": "dee@new.example", "currentPassword": "password-dee"}).WantStatus(t, 200).Decode(t, &out)
		if out.User.Email != "dee@new.example" {
			t.Fatalf("email = %q", out.User.Email)
		}
		login(t, s, "dee@new.example", "password-dee", firefoxLinux)
	})
}

func TestDeleteAccount(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		fay := s.SignUp(t, "fay")
		p := fay.CreateProject(t, "Mine")
		other := login(t, s, "fay", "password-fay", firefoxLinux)
		dir := filepath.Join(s.App.Config.DataDir, "projects", p.ID)
		if _, err := os.Stat(dir); err != nil {
			t.Fatal(err)
		}
		fay.Do(t, "DELETE", "/api/auth/me", map[string]string{"confirm": "someone", "password": "password-fay"}).WantError(t, 400, "confirm_username")
		fay.Do(t, "DELETE", "/api/auth/me", map[string]string{"confirm": "fay", "password": "nope"}).WantError(t, 400, "wrong_password")
		fay.Get(t, "/api/projects/"+p.ID).WantStatus(t, 200) // nothing lost by the refusals
		fay.Do(t, "DELETE", "/api/auth/me", map[string]string{"confirm": "fay", "password": "password-fay"}).WantStatus(t, 204)
		fay.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")
		other.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("the project's files are still there: %v", err)
		}
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "fay", "password": "password-fay"}).WantError(t, 401, "invalid_credentials")
		s.SignUp(t, "fay") // the name is free again
	})
}

func TestDisabledAccount(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		gus := s.SignUp(t, "gus")
		var tok struct{ Token string }
		gus.Post(t, "/api/tokens", map[string]string{"name": "ci"}).WantStatus(t, 201).Decode(t, &tok)
		if err := s.App.Auth.SetDisabled(context.Background(), "gus", true); err != nil {
			t.Fatal(err)
		}
		gus.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")
		bearer := s.Anonymous()
		bearer.Token = tok.Token
		bearer.Get(t, "/api/auth/me").WantError(t, 403, "account_disabled")
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "gus", "password": "password-gus"}).WantError(t, 403, "account_disabled")
		if err := s.App.Auth.SetDisabled(context.Background(), "gus", false); err != nil {
			t.Fatal(err)
		}
		login(t, s, "gus", "password-gus", firefoxLinux)
	})
}

// ipOf signs a person up with an X-Forwarded-For header and returns the
// address their session records.
func ipOf(t *testing.T, s *testserver.Server, name, forwarded string) string {
	c := s.Anonymous()
	c.Header = http.Header{"X-Forwarded-For": {forwarded}}
	c.Post(t, "/api/auth/signup", map[string]string{"username": name, "email": name + "@example.com", "password": "password-" + name}).WantStatus(t, 201)
	return sessions(t, c)[0].IP
}

// Behind a trusted proxy the forwarded address is the client's.
func TestForwardedByTrustedProxy(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		if ip := ipOf(t, s, "hal", "198.51.100.7, 203.0.113.9"); ip != "203.0.113.9" {
			t.Fatalf("behind a trusted proxy the client is %q", ip)
		}
	}, testserver.WithTrustedProxies("127.0.0.0/8"))
}

// From anyone else the header is ignored: anyone can write it.
func TestForwardedIgnored(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		if ip := ipOf(t, s, "ian", "203.0.113.9"); ip != "127.0.0.1" {
			t.Fatalf("without trusted proxies the client is %q", ip)
		}
	})
}

// Only the last proxy is trusted: the hop it saw is the client, whatever
// came before it.
func TestForwardedOneHop(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		if ip := ipOf(t, s, "joy", "203.0.113.9, 10.0.0.5"); ip != "10.0.0.5" {
			t.Fatalf("with a proxy that forwards another's hop the client is %q", ip)
		}
	}, testserver.WithTrustedProxies("127.0.0.1/32"))
}
