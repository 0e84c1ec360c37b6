package auth_test

import (
	"net/http"
	"strings"
	"testing"

	"ecode/internal/auth"
	"ecode/internal/testserver"
)

func TestSignupLoginLogout(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		var me struct{ User testserver.User }
		alice.Get(t, "/api/auth/me").WantStatus(t, 200).Decode(t, &me)
		if me.User.Username != "alice" || me.User.Email != "alice@example.com" || me.User.ID == "" {
			t.Fatalf("me = %+v", me.User)
		}
		if strings.Contains(string(alice.Get(t, "/api/auth/me").Body), "password") {
			t.Fatal("the user object leaks password material")
		}

		alice.Post(t, "/api/auth/logout", nil).WantStatus(t, http.StatusNoContent)
		alice.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")

		// Log in by username and by email, case-insensitively.
		for _, login := range []string{"alice", "ALICE@example.com"} {
			c := s.Anonymous()
			c.Post(t, "/api/auth/login", map[string]string{"login": login, "password": "password-alice"}).WantStatus(t, 200)
			c.Get(t, "/api/auth/me").WantStatus(t, 200)
		}
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "alice", "password": "wrong-password"}).
			WantError(t, 401, "invalid_credentials")
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "nobody", "password": "whatever1"}).
			WantError(t, 401, "invalid_credentials")
	})
}

// The sign-up answer is the account as stored, so the UI needs no reload to know it.
func TestSignupAnswersStoredUser(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		var out struct{ User auth.User }
		s.Anonymous().Post(t, "/api/auth/signup", map[string]string{
			"username": "first", "email": "first@example.com", "password": "password-first",
		}).WantStatus(t, 201).Decode(t, &out)
		if !out.User.HasPassword || !out.User.IsAdmin {
			t.Fatalf("sign-up answered %+v, want hasPassword and isAdmin (the first account)", out.User)
		}
	})
}

func TestSessionCookie(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		s.SignUp(t, "carol")
		c := s.Anonymous()
		res := c.Post(t, "/api/auth/login", map[string]string{"login": "carol", "password": "password-carol"}).WantStatus(t, 200)
		cookie := findCookie(res.Cookies(), "ecode_session")
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie = %+v, want HttpOnly SameSite=Lax", cookie)
		}
		// A second login in the same browser gets a fresh session id.
		res2 := c.Post(t, "/api/auth/login", map[string]string{"login": "carol", "password": "password-carol"}).WantStatus(t, 200)
		if c2 := findCookie(res2.Cookies(), "ecode_session"); c2 == nil || c2.Value == cookie.Value {
			t.Fatal("session id was not rotated at login")
		}
		// The old id is dead.
		stale := s.Anonymous()
		stale.Header.Set("Cookie", "ecode_session="+cookie.Value)
		stale.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")
	})
}

func findCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSignupRefusesBadInput(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		s.SignUp(t, "dave")
		c := s.Anonymous()
		cases := []struct {
			body   any
			status int
			code   string
		}{
			{map[string]string{"username": "dave", "email": "other@example.com", "password": "password1"}, 409, "username_taken"},
			{map[string]string{"username": "DAVE", "email": "other@example.com", "password": "password1"}, 409, "username_taken"},
			{map[string]string{"username": "dave2", "email": "Dave@Example.com", "password": "password1"}, 409, "email_taken"},
			{map[string]string{"username": "x", "email": "x@example.com", "password": "password1"}, 400, "invalid_username"},
			{map[string]string{"username": strings.Repeat("a", 33), "email": "x@example.com", "password": "password1"}, 400, "invalid_username"},
			{map[string]string{"username": "admin", "email": "x@example.com", "password": "password1"}, 400, "invalid_username"},
			{map[string]string{"username": "ok-name", "email": "not-an-email", "password": "password1"}, 400, "invalid_email"},
			{map[string]string{"username": "ok-name", "email": "x@example.com", "password": "short"}, 400, "weak_password"},
			{map[string]any{"username": "ok-name", "email": "x@example.com", "password": "password1", "admin": true}, 400, "unknown_field"},
			{map[string]any{"username": 7}, 400, "invalid_json"},
			{"{not json", 400, "invalid_json"},
			{"", 400, "invalid_json"},
			{`{"username":"a"} {"x":1}`, 400, "invalid_json"},
			{strings.Repeat(" ", 2<<20), 413, "body_too_large"},
		}
		for _, tc := range cases {
			c.Post(t, "/api/auth/signup", tc.body).WantError(t, tc.status, tc.code)
		}
		var n int
		if err := s.App.DB.Get(t.Context(), &n, `SELECT COUNT(*) FROM users`); err != nil || n != 1 {
			t.Fatalf("users = %d (%v), want only dave", n, err)
		}
	})
}

// untilLimited calls call up to tries times, each answered with status and
// code, until one is refused as rate limited (with a Retry-After).
func untilLimited(t *testing.T, tries int, what string, status int, code string, call func() *testserver.Response) {
	t.Helper()
	for range tries {
		res := call()
		if res.StatusCode == http.StatusTooManyRequests {
			res.WantError(t, 429, "rate_limited")
			if res.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			return
		}
		res.WantError(t, status, code)
	}
	t.Fatalf("%d %s in a row were never rate limited", tries, what)
}

func TestLoginRateLimit(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		s.SignUp(t, "erin")
		c := s.Anonymous()
		// About ten: the budget refills slowly, so a slow machine may need a few more.
		untilLimited(t, 40, "wrong passwords", 401, "invalid_credentials", func() *testserver.Response {
			return c.Post(t, "/api/auth/login", map[string]string{"login": "erin", "password": "guess-guess"})
		})
		// That address stays refused, even with the right password...
		c.Post(t, "/api/auth/login", map[string]string{"login": "erin", "password": "password-erin"}).WantError(t, 429, "rate_limited")
		// ...but erin from elsewhere is only slowed down, not locked out.
		s.Anonymous().From("127.0.0.5").Post(t, "/api/auth/login", map[string]string{"login": "erin", "password": "password-erin"}).WantStatus(t, 200)
	})
}

func TestKnownDeviceCookie(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		device := func(res *testserver.Response) *http.Cookie {
			for _, c := range res.Cookies() {
				if c.Name == "ecode_device" {
					return c
				}
			}
			return nil
		}
		res := s.Anonymous().Post(t, "/api/auth/signup", map[string]string{"username": "gia", "email": "gia@example.com", "password": "password-gia"})
		if c := device(res.WantStatus(t, 201)); c == nil || !strings.HasPrefix(c.Value, "v1.") {
			t.Fatalf("device cookie after sign-up: %+v", c)
		}
		res = s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "gia", "password": "password-gia"}).WantStatus(t, 200)
		if c := device(res); c == nil || !c.HttpOnly || c.MaxAge < 300*24*3600 || c.Path != "/api/auth/" {
			t.Fatalf("device cookie after login: %+v", c)
		}
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "gia", "password": "wrong-one"}).WantError(t, 401, "invalid_credentials")
		if c := device(s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "gia", "password": "wrong-one"})); c != nil {
			t.Fatal("a failed login was given a device cookie")
		}
	})
}

func TestAPITokens(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		frank := s.SignUp(t, "frank")
		var created struct{ Token, ID, Name string }
		frank.Post(t, "/api/tokens", map[string]string{"name": "ci"}).WantStatus(t, 201).Decode(t, &created)
		if !strings.HasPrefix(created.Token, "ecode_") || created.ID == "" || created.Name != "ci" {
			t.Fatalf("created = %+v", created)
		}
		var stored string
		if err := s.App.DB.Get(t.Context(), &stored, `SELECT hash FROM api_tokens WHERE id = ?`, created.ID); err != nil || stored == created.Token {
			t.Fatalf("token stored in the clear (or missing): %v", err)
		}

		api := s.Anonymous()
		api.Token = created.Token
		var me struct{ User testserver.User }
		api.Get(t, "/api/auth/me").WantStatus(t, 200).Decode(t, &me)
		if me.User.Username != "frank" {
			t.Fatalf("token resolves to %q", me.User.Username)
		}
		p := api.CreateProject(t, "Via API")
		api.Put(t, "/api/projects/"+p.ID+"/files/x.txt", "x").WantStatus(t, 204)

		var list struct{ Tokens []auth.Token }
		frank.Get(t, "/api/tokens").WantStatus(t, 200).Decode(t, &list)
		if len(list.Tokens) != 1 || list.Tokens[0].LastUsedAt == nil || strings.Contains(string(frank.Get(t, "/api/tokens").Body), created.Token) {
			t.Fatalf("tokens = %+v", list.Tokens)
		}

		s.SignUp(t, "grace").Delete(t, "/api/tokens/"+created.ID).WantError(t, 404, "not_found")
		frank.Delete(t, "/api/tokens/"+created.ID).WantStatus(t, 204)
		api.Get(t, "/api/auth/me").WantError(t, 401, "invalid_token")

		bad := s.Anonymous()
		bad.Token = "ecode_notarealtoken"
		bad.Get(t, "/api/auth/me").WantError(t, 401, "invalid_token")
		bad.Header.Set("Authorization", "Basic Zm9vOmJhcg==")
		bad.Token = ""
		bad.Get(t, "/api/auth/me").WantError(t, 401, "invalid_token")

		frank.Post(t, "/api/tokens", map[string]string{"name": ""}).WantError(t, 400, "invalid_name")
		frank.Post(t, "/api/tokens", map[string]any{"name": "x", "expiresInDays": -1}).WantError(t, 400, "invalid_expiry")
		s.Anonymous().Post(t, "/api/tokens", map[string]string{"name": "x"}).WantError(t, 401, "unauthenticated")
	})
}

func TestExpiredToken(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		hana := s.SignUp(t, "hana")
		var created struct{ Token, ID string }
		hana.Post(t, "/api/tokens", map[string]any{"name": "short", "expiresInDays": 1}).WantStatus(t, 201).Decode(t, &created)
		if _, err := s.App.DB.Exec(t.Context(), `UPDATE api_tokens SET expires_at = 1 WHERE id = ?`, created.ID); err != nil {
			t.Fatal(err)
		}
		api := s.Anonymous()
		api.Token = created.Token
		api.Get(t, "/api/auth/me").WantError(t, 401, "token_expired")
	})
}

func TestCrossOriginRefused(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ivan := s.SignUp(t, "ivan")
		ivan.Header.Set("Sec-Fetch-Site", "cross-site")
		ivan.Header.Set("Origin", "https://evil.example")
		ivan.Post(t, "/api/projects", map[string]string{"name": "x"}).WantError(t, 403, "cross_origin")
		ivan.Get(t, "/api/projects").WantStatus(t, 200) // safe methods pass
		ivan.Header.Set("Sec-Fetch-Site", "same-origin")
		ivan.Header.Del("Origin")
		ivan.Post(t, "/api/projects", map[string]string{"name": "x"}).WantStatus(t, 201)
	})
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{"Alice": "alice", " bob_1 ": "bob_1", "a-b": "a-b"} {
		if got, err := auth.NormalizeUsername(in); err != nil || got != want {
			t.Errorf("NormalizeUsername(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"ab", "-ab", "a b", "ümlaut", "a/b", "api", ""} {
		if _, err := auth.NormalizeUsername(bad); err == nil {
			t.Errorf("NormalizeUsername(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"a", "a@b", "Name <a@b.io>", "a@@b.io", "@b.io"} {
		if _, err := auth.NormalizeEmail(bad); err == nil {
			t.Errorf("NormalizeEmail(%q) accepted", bad)
		}
	}
}

func FuzzNormalizeUsername(f *testing.F) {
	for _, s := range []string{"alice", "A_b-c", "..", "x/../y", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := auth.NormalizeUsername(s)
		if err != nil {
			return
		}
		if len(u) < 3 || len(u) > 32 || strings.ContainsAny(u, "/.@ \x00") || strings.ToLower(u) != u {
			t.Fatalf("accepted %q as %q", s, u)
		}
	})
}

func TestSignupClosed(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		s.Anonymous().Post(t, "/api/auth/signup", map[string]string{
			"username": "late", "email": "late@example.com", "password": "password-late",
		}).WantError(t, 403, "signup_disabled")
	}, testserver.WithoutSignup)
}
