package oauth_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"ecode/internal/config"
	"ecode/internal/oauth/oauthtest"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// world is the real server with every provider played by a local fake.
type world struct {
	*testserver.Server
	fakes map[string]*oauthtest.Provider
}

// each runs fn on every database engine, each with its own server and fakes.
func each(t *testing.T, fn func(t *testing.T, w *world), opts ...testserver.Option) {
	t.Helper()
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			w := &world{fakes: map[string]*oauthtest.Provider{}}
			all := append([]testserver.Option(nil), opts...)
			for _, kind := range oauthtest.Kinds {
				f := oauthtest.New(t, kind)
				w.fakes[kind] = f
				all = append(all, testserver.WithOAuth(kind, f.URL, f.ClientID, f.ClientSecret))
			}
			w.Server = testserver.New(t, e, all...)
			fn(t, w)
		})
	}
}

// dance goes through the whole flow in browser c, following every redirect
// (E-Code, the provider's consent page, the callback), and returns where
// the browser lands.
func dance(t *testing.T, c *testserver.Client, provider, query string) *url.URL {
	t.Helper()
	return c.Get(t, "/api/auth/oauth/"+provider+"/start"+query).Request.URL
}

func wantLanding(t *testing.T, got *url.URL, path string, query url.Values) {
	t.Helper()
	if got.Path != path {
		t.Fatalf("landed on %s, want %s", got, path)
	}
	for k := range query {
		if got.Query().Get(k) != query.Get(k) {
			t.Fatalf("landed on %s, want %s=%s", got, k, query.Get(k))
		}
	}
}

func wantLoginError(t *testing.T, got *url.URL, code string) {
	t.Helper()
	wantLanding(t, got, "/login", url.Values{"error": {code}})
}

type account struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

func me(t *testing.T, c *testserver.Client) account {
	t.Helper()
	var out struct{ User account }
	c.Get(t, "/api/auth/me").WantStatus(t, 200).Decode(t, &out)
	return out.User
}

type identities struct {
	Identities []struct {
		Provider, ProviderName, Login, Email string
		CreatedAt                            int64
	}
	CanUnlink bool
}

func linked(t *testing.T, c *testserver.Client) identities {
	t.Helper()
	var out identities
	c.Get(t, "/api/auth/identities").WantStatus(t, 200).Decode(t, &out)
	return out
}

func (ids identities) providers() string {
	var out []string
	for _, id := range ids.Identities {
		out = append(out, id.Provider)
	}
	return strings.Join(out, ",")
}

var person = oauthtest.Person

// TestEveryProvider signs up and logs in again through each provider,
// speaking each one's own protocol and shapes.
func TestEveryProvider(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		var list struct {
			Providers []struct{ ID, Name string }
		}
		w.Anonymous().Get(t, "/api/auth/providers").WantStatus(t, 200).Decode(t, &list)
		if len(list.Providers) != 7 || list.Providers[0].ID != "github" || list.Providers[6].Name != "Microsoft" {
			t.Fatalf("providers = %+v", list.Providers)
		}
		for _, kind := range oauthtest.Kinds {
			t.Run(kind, func(t *testing.T) {
				t.Parallel()
				login := "ada-" + kind
				w.fakes[kind].LogInAs(person(kind, login, login+"@Example.com", true))

				first := w.Anonymous()
				wantLanding(t, dance(t, first, kind, "?next=/@"+login+"/blog"), "/@"+login+"/blog", nil)
				u := me(t, first)
				if u.Username != login || u.Email != login+"@example.com" {
					t.Fatalf("new account = %+v", u)
				}
				ids := linked(t, first)
				if ids.providers() != kind || ids.Identities[0].Login == "" || ids.CanUnlink {
					t.Fatalf("identities = %+v; want only %s, and it can't be unlinked", ids, kind)
				}

				again := w.Anonymous()
				wantLanding(t, dance(t, again, kind, ""), "/", nil)
				if got := me(t, again); got.ID != u.ID {
					t.Fatalf("second login is account %+v, want %+v", got, u)
				}
			})
		}
	})
}

func TestLinkAndUnlink(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		alice := w.SignUp(t, "alice")
		w.fakes["github"].LogInAs(person("github", "alicegh", "alice.gh@example.com", true))
		w.fakes["google"].LogInAs(person("google", "alice", "alice@gmail.example", true))

		wantLanding(t, dance(t, alice, "github", "?link=1&next=/settings"), "/settings", url.Values{"error": {""}})
		// Logged in, a plain "Continue with" links too.
		wantLanding(t, dance(t, alice, "google", ""), "/settings", url.Values{"error": {""}})
		if ids := linked(t, alice); ids.providers() != "github,google" || !ids.CanUnlink {
			t.Fatalf("identities = %+v", ids)
		}
		if me(t, alice).Username != "alice" {
			t.Fatal("linking changed who is logged in")
		}

		// Either provider now logs in to alice's account.
		for _, p := range []string{"github", "google"} {
			c := w.Anonymous()
			dance(t, c, p, "")
			if me(t, c).Username != "alice" {
				t.Fatalf("%s logged in as %+v", p, me(t, c))
			}
		}

		// A second GitHub account for alice, or alice's GitHub for bob, is refused.
		w.fakes["github"].LogInAs(person("github", "alice2", "alice2@example.com", true))
		wantLanding(t, dance(t, alice, "github", "?link=1"), "/settings", url.Values{"error": {"already_linked"}, "provider": {"github"}})
		bob := w.SignUp(t, "bob")
		w.fakes["github"].LogInAs(person("github", "alicegh", "alice.gh@example.com", true))
		wantLanding(t, dance(t, bob, "github", "?link=1"), "/settings", url.Values{"error": {"identity_taken"}})
		if ids := linked(t, bob); len(ids.Identities) != 0 {
			t.Fatalf("bob linked %+v", ids)
		}

		// With a password left, every provider may go.
		alice.Delete(t, "/api/auth/identities/github").WantStatus(t, 204)
		alice.Delete(t, "/api/auth/identities/google").WantStatus(t, 204)
		alice.Delete(t, "/api/auth/identities/google").WantError(t, 404, "not_linked")
		alice.Delete(t, "/api/auth/identities/myspace").WantError(t, 404, "unknown_provider")
		w.Anonymous().Delete(t, "/api/auth/identities/github").WantError(t, 401, "unauthenticated")
		// Unlinked, that GitHub account is nobody's: it signs up anew.
		c := w.Anonymous()
		wantLanding(t, dance(t, c, "github", ""), "/", nil)
		if u := me(t, c); u.Username != "alicegh" {
			t.Fatalf("unlinked identity logged in as %+v", u)
		}
	})
}

func TestLastLoginMethodStays(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		w.fakes["gitlab"].LogInAs(person("gitlab", "carol", "carol@example.com", true))
		w.fakes["discord"].LogInAs(person("discord", "carold", "carol@discord.example", true))
		carol := w.Anonymous()
		dance(t, carol, "gitlab", "")
		carol.Delete(t, "/api/auth/identities/gitlab").WantError(t, 409, "last_login_method")

		wantLanding(t, dance(t, carol, "discord", "?link=1&next=/settings"), "/settings", url.Values{"error": {""}})
		if ids := linked(t, carol); ids.providers() != "gitlab,discord" || !ids.CanUnlink {
			t.Fatalf("identities = %+v", ids)
		}
		carol.Delete(t, "/api/auth/identities/gitlab").WantStatus(t, 204)
		carol.Delete(t, "/api/auth/identities/discord").WantError(t, 409, "last_login_method")
		if ids := linked(t, carol); ids.providers() != "discord" || ids.CanUnlink {
			t.Fatalf("identities = %+v", ids)
		}
		// A password is a way to log in too.
		carol.Post(t, "/api/auth/password", map[string]string{"newPassword": "carols-new-password"}).WantStatus(t, 204)
		carol.Delete(t, "/api/auth/identities/discord").WantStatus(t, 204)
	})
}

// TestExistingAccountNeedsProof: a provider that reports the email of an
// existing account does not log in to it; an unverified email is never
// used at all, so no account is made from it.
func TestExistingAccountNeedsProof(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		alice := w.SignUp(t, "alice")
		cases := []struct {
			provider string
			user     oauthtest.User
			code     string
		}{
			{"github", person("github", "mallory", "alice@example.com", true), "email_exists"},
			{"github", person("github", "mallory", "ALICE@example.com", false), "email_unverified"},
			{"bitbucket", person("bitbucket", "mallory", "alice@example.com", false), "email_unverified"},
			{"discord", person("discord", "mallory", "mallory@example.com", false), "email_unverified"},
			{"google", person("google", "mallory", "mallory@example.com", false), "email_unverified"},
			{"slack", person("slack", "mallory", "alice@example.com", false), "email_unverified"},
			{"gitlab", person("gitlab", "mallory", "alice@example.com", true), "email_exists"},
			// Entra ID's email is unverified unless xms_edov says otherwise.
			{"azuread", person("azuread", "mallory", "alice@example.com", false), "email_unverified"},
			{"azuread", person("azuread", "mallory", "alice@example.com", true), "email_exists"},
		}
		for _, tc := range cases {
			w.fakes[tc.provider].LogInAs(tc.user)
			c := w.Anonymous()
			got := dance(t, c, tc.provider, "?next=/settings")
			wantLanding(t, got, "/login", url.Values{"error": {tc.code}, "provider": {tc.provider}, "next": {"/settings"}})
			c.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")
		}
		if _, err := w.App.Auth.UserByUsername(context.Background(), "mallory"); err == nil {
			t.Fatal("an account was made from an unverified or taken email")
		}

		// Alice proves the account is hers with her password, then links.
		w.fakes["github"].LogInAs(person("github", "alice", "alice@example.com", true))
		wantLanding(t, dance(t, alice, "github", "?link=1&next=/settings"), "/settings", url.Values{"error": {""}})
		c := w.Anonymous()
		dance(t, c, "github", "")
		if me(t, c).Username != "alice" {
			t.Fatal("linked provider does not log in to alice")
		}
	})
}

func TestStateIsChecked(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		w.fakes["github"].LogInAs(person("github", "dave", "dave@example.com", true))
		// A browser that is only dancing gets a session that ends with the dance.
		start := w.Anonymous().DoNoRedirect(t, "GET", "/api/auth/oauth/github/start")
		for _, ck := range start.Cookies() {
			if ck.Name == "ecode_session" && (ck.Expires.IsZero() || time.Until(ck.Expires) > 11*time.Minute) {
				t.Fatalf("an anonymous dance's session lasts until %s", ck.Expires)
			}
		}
		if len(start.Cookies()) == 0 {
			t.Fatal("start kept no state in the browser's session")
		}

		c := w.Anonymous()
		code, state := approve(t, c, "github")

		wrong := c.DoNoRedirect(t, "GET", "/api/auth/oauth/github/callback?"+url.Values{"code": {code}, "state": {state + "x"}}.Encode())
		wantLoginError(t, location(t, wrong), "oauth_state")
		// The state is good once: after a failure the dance starts over.
		replay := c.DoNoRedirect(t, "GET", "/api/auth/oauth/github/callback?"+url.Values{"code": {code}, "state": {state}}.Encode())
		wantLoginError(t, location(t, replay), "oauth_state")
		c.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")

		// A callback in a browser that never started the dance (login CSRF) is refused.
		code, state = approve(t, w.Anonymous(), "github")
		victim := w.Anonymous()
		res := victim.DoNoRedirect(t, "GET", "/api/auth/oauth/github/callback?"+url.Values{"code": {code}, "state": {state}}.Encode())
		wantLoginError(t, location(t, res), "oauth_state")
		victim.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")

		// Cancelled at the provider.
		w.fakes["github"].Deny()
		wantLoginError(t, dance(t, w.Anonymous(), "github", ""), "oauth_denied")

		// Unknown or disabled providers are not found, not redirected.
		w.Anonymous().DoNoRedirect(t, "GET", "/api/auth/oauth/myspace/start").WantError(t, 404, "unknown_provider")
		w.Anonymous().DoNoRedirect(t, "GET", "/api/auth/oauth/myspace/callback").WantError(t, 404, "unknown_provider")
	})
}

// TestPKCEIsChecked: a code stolen from one browser's dance is useless in
// another's, because the token endpoint wants the verifier of the first.
func TestPKCEIsChecked(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		for _, kind := range []string{"github", "google", "azuread"} {
			w.fakes[kind].LogInAs(person(kind, "erin", "erin@example.com", true))
			stolen, _ := approve(t, w.Anonymous(), kind)
			attacker := w.Anonymous()
			_, state := approve(t, attacker, kind)
			res := attacker.DoNoRedirect(t, "GET", "/api/auth/oauth/"+kind+"/callback?"+url.Values{"code": {stolen}, "state": {state}}.Encode())
			wantLoginError(t, location(t, res), "oauth_failed")
			attacker.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")
		}
	})
}

func TestUsernameTakenAsksForOne(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		w.SignUp(t, "octocat")
		w.fakes["github"].LogInAs(person("github", "OctoCat", "octo@elsewhere.example", true))
		c := w.Anonymous()
		wantLanding(t, dance(t, c, "github", "?next=/new"), "/signup/username", url.Values{"provider": {"github"}, "taken": {"octocat"}})
		c.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")

		c.Post(t, "/api/auth/oauth/username", map[string]string{"username": "octocat"}).WantError(t, 409, "username_taken")
		c.Post(t, "/api/auth/oauth/username", map[string]string{"username": "x"}).WantError(t, 400, "invalid_username")
		var out struct {
			User account
			Next string
		}
		c.Post(t, "/api/auth/oauth/username", map[string]string{"username": "Octo-Two"}).WantStatus(t, 201).Decode(t, &out)
		if out.User.Username != "octo-two" || out.User.Email != "octo@elsewhere.example" || out.Next != "/new" {
			t.Fatalf("finished sign-up = %+v", out)
		}
		if me(t, c).Username != "octo-two" || linked(t, c).providers() != "github" {
			t.Fatal("not logged in to the new account with github linked")
		}
		c.Post(t, "/api/auth/oauth/username", map[string]string{"username": "octo-three"}).WantError(t, 401, "no_pending_signup")
		w.Anonymous().Post(t, "/api/auth/oauth/username", map[string]string{"username": "octo-four"}).WantError(t, 401, "no_pending_signup")

		again := w.Anonymous()
		dance(t, again, "github", "")
		if me(t, again).Username != "octo-two" {
			t.Fatal("second login went elsewhere")
		}

		// A provider name that can't be a username asks without a suggestion.
		w.fakes["discord"].LogInAs(person("discord", "admin", "root@discord.example", true))
		wantLanding(t, dance(t, w.Anonymous(), "discord", ""), "/signup/username", url.Values{"provider": {"discord"}, "taken": {""}})
	})
}

func TestSignupClosed(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		w.fakes["google"].LogInAs(person("google", "frank", "frank@example.com", true))
		wantLoginError(t, dance(t, w.Anonymous(), "google", ""), "signup_disabled")
	}, testserver.WithoutSignup)
}

// A provider login to an account that requires a security key is its
// first factor: the browser goes on to the key, not in.
func TestSecurityKeyAfterProvider(t *testing.T) {
	each(t, func(t *testing.T, w *world) {
		grace := w.SignUp(t, "grace")
		w.fakes["slack"].LogInAs(person("slack", "grace", "grace@slack.example", true))
		dance(t, grace, "slack", "?link=1")
		u, err := w.App.Auth.UserByUsername(context.Background(), "grace")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.App.Auth.SetRequireKey(context.Background(), u, true); err != nil {
			t.Fatal(err)
		}
		c := w.Anonymous()
		wantLanding(t, dance(t, c, "slack", "?next=/settings"), "/login/second-factor", url.Values{"next": {"/settings"}})
		c.Get(t, "/api/auth/me").WantError(t, 401, "unauthenticated")
	})
}

// TestEntraSingleTenant: with a tenant set, people of other directories
// are refused even when the provider signs their token.
func TestEntraSingleTenant(t *testing.T) {
	tenant := testserver.Option(func(c *config.Config) { c.OAuth.AzureADTenant = oauthtest.DefaultTenant })
	each(t, func(t *testing.T, w *world) {
		f := w.fakes["azuread"]
		f.LogInAs(person("azuread", "heidi", "heidi@contoso.example", true))
		c := w.Anonymous()
		wantLanding(t, dance(t, c, "azuread", ""), "/", nil)
		if me(t, c).Username != "heidi" {
			t.Fatal("not logged in")
		}
		stranger := person("azuread", "ivan", "ivan@fabrikam.example", true)
		stranger.Tenant = "0000aaaa-1111-4222-8333-444455556666"
		f.LogInAs(stranger)
		wantLoginError(t, dance(t, w.Anonymous(), "azuread", ""), "oauth_failed")
	}, tenant)
}

func TestOnlyEnabledProvidersAndSafeNext(t *testing.T) {
	for _, e := range testdb.Engines(t)[:1] {
		f := oauthtest.New(t, "gitlab")
		s := testserver.New(t, e, testserver.WithOAuth("gitlab", f.URL, f.ClientID, f.ClientSecret))
		var list struct {
			Providers []struct{ ID, Name string }
		}
		s.Anonymous().Get(t, "/api/auth/providers").WantStatus(t, 200).Decode(t, &list)
		if len(list.Providers) != 1 || list.Providers[0].ID != "gitlab" || list.Providers[0].Name != "GitLab" {
			t.Fatalf("providers = %+v", list.Providers)
		}
		s.Anonymous().DoNoRedirect(t, "GET", "/api/auth/oauth/github/start").WantError(t, 404, "unknown_provider")
		f.LogInAs(person("gitlab", "judy", "judy@example.com", true))
		for _, next := range []string{"//evil.example/", "https://evil.example/", `/\evil.example`} {
			wantLanding(t, dance(t, s.Anonymous(), "gitlab", "?next="+url.QueryEscape(next)), "/", nil)
		}
		// Linking needs a login first.
		res := s.Anonymous().DoNoRedirect(t, "GET", "/api/auth/oauth/gitlab/start?link=1")
		wantLanding(t, location(t, res), "/login", url.Values{"next": {"/settings"}})
	}
}

// TestSettingNames keeps the environment variables of the contract.
func TestSettingNames(t *testing.T) {
	env := map[string]string{
		"ECODE_OAUTH_GITLAB_CLIENT_ID":     "id",
		"ECODE_OAUTH_GITLAB_CLIENT_SECRET": "secret",
		"ECODE_OAUTH_GITLAB_BASE_URL":      "https://gitlab.example.com/",
		"ECODE_OAUTH_AZUREAD_CLIENT_ID":    "az",
		"ECODE_OAUTH_AZUREAD_TENANT":       "contoso.onmicrosoft.com",
	}
	c := config.Default()
	c.Bind(flag.NewFlagSet("serve", flag.ContinueOnError), func(k string) string { return env[k] })
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ECODE_OAUTH_AZUREAD_CLIENT_SECRET") {
		t.Fatalf("an id without a secret: err = %v", err)
	}
	env["ECODE_OAUTH_AZUREAD_CLIENT_SECRET"] = "s"
	c = config.Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Bind(fs, func(k string) string { return env[k] })
	if err := fs.Parse([]string{"-oauth-discord-client-id", "d", "-oauth-discord-client-secret", "ds"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.OAuth.GitLab.Enabled() || c.OAuth.GitLab.BaseURL != "https://gitlab.example.com" || !c.OAuth.AzureAD.Enabled() ||
		c.OAuth.AzureADTenant != "contoso.onmicrosoft.com" || !c.OAuth.Discord.Enabled() || c.OAuth.GitHub.Enabled() {
		t.Fatalf("settings = %+v", c.OAuth)
	}
	if config.Default().OAuth.AzureADTenant != "common" {
		t.Fatal("the Entra ID tenant defaults to common")
	}
	env["ECODE_OAUTH_GITLAB_BASE_URL"] = "gitlab.example.com"
	c = config.Default()
	c.Bind(flag.NewFlagSet("serve", flag.ContinueOnError), func(k string) string { return env[k] })
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ECODE_OAUTH_GITLAB_BASE_URL") {
		t.Fatalf("a base URL without a scheme: err = %v", err)
	}
}

// approve starts a dance in browser c and approves at the provider without
// coming back: it returns the code and state the provider sends back.
func approve(t *testing.T, c *testserver.Client, provider string) (code, state string) {
	t.Helper()
	to := location(t, c.DoNoRedirect(t, "GET", "/api/auth/oauth/"+provider+"/start"))
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(to.String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := res.Location()
	if err != nil {
		t.Fatalf("provider answered %s, not a redirect", res.Status)
	}
	if back.Query().Get("code") == "" {
		t.Fatalf("provider sent back %s", back)
	}
	return back.Query().Get("code"), back.Query().Get("state")
}

func location(t *testing.T, res *testserver.Response) *url.URL {
	t.Helper()
	if res.StatusCode != http.StatusFound {
		t.Fatalf("%s: status %d, want 302; body %s", res.Request.URL.Path, res.StatusCode, res.Body)
	}
	u, err := res.Location()
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestProviderDown(t *testing.T) {
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	s := testserver.New(t, testdb.Engines(t)[0], testserver.WithOAuth("google", gone.URL, "google-client", "secret"))
	c := s.Anonymous()
	wantLoginError(t, location(t, c.DoNoRedirect(t, "GET", "/api/auth/oauth/google/start?next=/x")), "provider_unavailable")
	alice := s.SignUp(t, "alice")
	got := location(t, alice.DoNoRedirect(t, "GET", "/api/auth/oauth/google/start?link=1"))
	wantLanding(t, got, "/settings", url.Values{"error": {"provider_unavailable"}, "provider": {"google"}})
	if got.Fragment != "linked-accounts" {
		t.Fatalf("link error lands on %s, want Settings → Linked accounts", got)
	}
}
