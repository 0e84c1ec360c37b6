package oauth

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Client is this server's registration at one provider.
type Client struct {
	ID      string
	Secret  string
	BaseURL string // replaces the provider's origin(s): self-hosted servers, test servers
}

// provider is one place people log in with: plain OAuth 2 with the
// provider's own profile API (fetch), or OpenID Connect (issuer), whose
// endpoints and keys are discovered on first use.
type provider struct {
	id, name string
	conf     oauth2.Config // Endpoint is discovered for OpenID Connect providers
	client   *http.Client

	api   string // plain OAuth 2: where the profile API is
	fetch func(ctx context.Context, c *http.Client, api string, tok *oauth2.Token) (*Profile, error)

	issuer    string
	perTenant bool // Entra ID: the discovered issuer has a {tenantid} that each token fills in
	userInfo  bool // ask the userinfo endpoint for the email too
	claims    func(c *idClaims) *Profile

	mu   sync.Mutex
	disc *oidc.Provider
}

func newProvider(id string, c Client, publicURL, tenant string, client *http.Client) *provider {
	p := &provider{id: id, name: names[id], client: client, conf: oauth2.Config{
		ClientID: c.ID, ClientSecret: c.Secret, RedirectURL: publicURL + "/api/auth/oauth/" + id + "/callback",
	}}
	origin := func(public string) string {
		if c.BaseURL != "" {
			return strings.TrimSuffix(c.BaseURL, "/")
		}
		return public
	}
	oidcScopes := []string{oidc.ScopeOpenID, "email", "profile"}
	switch id {
	case "github":
		web, api := origin("https://github.com"), "https://api.github.com"
		if c.BaseURL != "" {
			api = web + "/api/v3" // GitHub Enterprise Server
		}
		p.conf.Endpoint = oauth2.Endpoint{AuthURL: web + "/login/oauth/authorize", TokenURL: web + "/login/oauth/access_token"}
		p.conf.Scopes, p.api, p.fetch = []string{"read:user", "user:email"}, api, githubProfile
	case "bitbucket":
		web := origin("https://bitbucket.org")
		p.conf.Endpoint = oauth2.Endpoint{AuthURL: web + "/site/oauth2/authorize", TokenURL: web + "/site/oauth2/access_token"}
		p.conf.Scopes, p.api, p.fetch = []string{"account", "email"}, origin("https://api.bitbucket.org"), bitbucketProfile
	case "discord":
		web := origin("https://discord.com")
		p.conf.Endpoint = oauth2.Endpoint{AuthURL: web + "/oauth2/authorize", TokenURL: web + "/api/oauth2/token"}
		p.conf.Scopes, p.api, p.fetch = []string{"identify", "email"}, web+"/api", discordProfile
	case "google":
		p.conf.Scopes, p.issuer, p.claims = oidcScopes, origin("https://accounts.google.com"), googleClaims
	case "gitlab":
		p.conf.Scopes, p.issuer, p.claims, p.userInfo = oidcScopes, origin("https://gitlab.com"), gitlabClaims, true
	case "slack":
		p.conf.Scopes, p.issuer, p.claims, p.userInfo = oidcScopes, origin("https://slack.com"), slackClaims, true
	case "azuread":
		p.conf.Scopes, p.claims, p.perTenant = oidcScopes, azureClaims, true
		p.issuer = origin("https://login.microsoftonline.com") + "/" + tenant + "/v2.0"
	default:
		return nil
	}
	return p
}

// config is the provider's OAuth 2 configuration, with its endpoints.
func (p *provider) config(ctx context.Context) (oauth2.Config, error) {
	c := p.conf
	if p.issuer == "" {
		return c, nil
	}
	d, err := p.discover(ctx)
	if err != nil {
		return c, errUnreachable(p.name).With(err)
	}
	c.Endpoint = d.Endpoint()
	return c, nil
}

// discover reads the OpenID Connect configuration once it is first needed,
// so a provider that is down does not stop the server from starting.
func (p *provider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return p.disc, nil
	}
	ctx = oidc.ClientContext(ctx, p.client)
	if p.perTenant {
		// Multi-tenant Entra ID publishes https://.../{tenantid}/v2.0 as its
		// issuer; each token's own is checked in oidcProfile instead.
		ctx = oidc.InsecureIssuerURLContext(ctx, p.issuer)
	}
	d, err := oidc.NewProvider(ctx, p.issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", p.issuer, err)
	}
	p.disc = d
	return d, nil
}

// profile asks the provider who logged in with tok.
func (p *provider) profile(ctx context.Context, tok *oauth2.Token, nonce string) (*Profile, error) {
	var prof *Profile
	var err error
	if p.fetch != nil {
		prof, err = p.fetch(ctx, p.client, p.api, tok)
	} else {
		prof, err = p.oidcProfile(ctx, tok, nonce)
	}
	if err != nil {
		return nil, err
	}
	if prof.Subject == "" {
		return nil, fmt.Errorf("%s named no subject", p.id)
	}
	prof.Email = strings.ToLower(strings.TrimSpace(prof.Email))
	return prof, nil
}

// idClaims are the id_token (and userinfo) claims any provider here uses.
type idClaims struct {
	Issuer            string `json:"iss"`
	Subject           string `json:"sub"`
	Email             string `json:"email"`
	EmailVerified     any    `json:"email_verified"` // true, or "true" at some providers
	Name              string `json:"name"`
	Nickname          string `json:"nickname"`
	PreferredUsername string `json:"preferred_username"`
	ObjectID          string `json:"oid"`      // Entra ID: the person, across applications
	TenantID          string `json:"tid"`      // Entra ID: their directory
	DomainVerified    any    `json:"xms_edov"` // Entra ID: the email's domain is verified by its owner
}

func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true" || v == "1"
	case float64:
		return v == 1
	}
	return false
}

func (p *provider) oidcProfile(ctx context.Context, tok *oauth2.Token, nonce string) (*Profile, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	ctx = oidc.ClientContext(ctx, p.client)
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%s sent no id_token", p.id)
	}
	idt, err := d.Verifier(&oidc.Config{ClientID: p.conf.ClientID, SkipIssuerCheck: p.perTenant}).Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("verify %s id_token: %w", p.id, err)
	}
	if nonce == "" || idt.Nonce != nonce {
		return nil, fmt.Errorf("%s id_token nonce does not match", p.id)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("%s id_token claims: %w", p.id, err)
	}
	if p.perTenant {
		var disc struct {
			Issuer string `json:"issuer"`
		}
		if err := d.Claims(&disc); err != nil {
			return nil, err
		}
		if want := strings.ReplaceAll(disc.Issuer, "{tenantid}", c.TenantID); c.TenantID == "" || idt.Issuer != want {
			return nil, fmt.Errorf("%s id_token issuer %q, want %q", p.id, idt.Issuer, want)
		}
	}
	if p.userInfo {
		ui, err := d.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, fmt.Errorf("%s userinfo: %w", p.id, err)
		}
		var more idClaims
		if err := ui.Claims(&more); err != nil || more.Subject != c.Subject {
			return nil, fmt.Errorf("%s userinfo is about %q, not %q (%v)", p.id, more.Subject, c.Subject, err)
		}
		if more.Email != "" {
			c.Email, c.EmailVerified = more.Email, more.EmailVerified
		}
		c.Name, c.Nickname = cmp.Or(c.Name, more.Name), cmp.Or(c.Nickname, more.Nickname)
		c.PreferredUsername = cmp.Or(c.PreferredUsername, more.PreferredUsername)
	}
	return p.claims(&c), nil
}

func googleClaims(c *idClaims) *Profile {
	return &Profile{Subject: c.Subject, Email: c.Email, EmailVerified: truthy(c.EmailVerified), Login: c.Email, Username: c.Email}
}

func gitlabClaims(c *idClaims) *Profile {
	login := cmp.Or(c.Nickname, c.PreferredUsername)
	return &Profile{Subject: c.Subject, Email: c.Email, EmailVerified: truthy(c.EmailVerified), Login: cmp.Or(login, c.Email), Username: cmp.Or(login, c.Email)}
}

func slackClaims(c *idClaims) *Profile {
	return &Profile{Subject: c.Subject, Email: c.Email, EmailVerified: truthy(c.EmailVerified), Login: cmp.Or(c.Email, c.Name), Username: cmp.Or(c.Email, c.Name)}
}

// azureClaims names the person by directory and object id: sub differs per
// application, and Entra ID lets directory admins set any email without
// proof, so an email counts as verified only where xms_edov says so.
func azureClaims(c *idClaims) *Profile {
	p := &Profile{Email: c.Email, EmailVerified: truthy(c.DomainVerified), Login: cmp.Or(c.PreferredUsername, c.Email), Username: cmp.Or(c.PreferredUsername, c.Email)}
	if c.TenantID != "" && c.ObjectID != "" {
		p.Subject = c.TenantID + "/" + c.ObjectID
	}
	return p
}

// getJSON reads one of a provider's API resources with tok.
func getJSON(ctx context.Context, c *http.Client, url string, tok *oauth2.Token, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	tok.SetAuthHeader(req)
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.200s", url, res.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

// githubProfile: the primary email counts, when GitHub has verified it.
func githubProfile(ctx context.Context, c *http.Client, api string, tok *oauth2.Token) (*Profile, error) {
	var u struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
	}
	if err := getJSON(ctx, c, api+"/user", tok, &u); err != nil {
		return nil, err
	}
	var emails []emailEntry
	if err := getJSON(ctx, c, api+"/user/emails", tok, &emails); err != nil {
		return nil, err
	}
	p := &Profile{Login: u.Login, Username: u.Login}
	if u.ID != 0 {
		p.Subject = strconv.FormatInt(u.ID, 10)
	}
	p.usePrimaryEmail(emails)
	return p, nil
}

// emailEntry is one address of a person's list at GitHub or Bitbucket
// (each sends only its own names for the flags).
type emailEntry struct {
	Email       string `json:"email"`
	Primary     bool   `json:"primary"`      // GitHub
	Verified    bool   `json:"verified"`     // GitHub
	IsPrimary   bool   `json:"is_primary"`   // Bitbucket
	IsConfirmed bool   `json:"is_confirmed"` // Bitbucket
}

// usePrimaryEmail takes the primary address of list, verified where the
// provider says so; the others are not where the person gets their mail.
func (p *Profile) usePrimaryEmail(list []emailEntry) {
	for _, e := range list {
		if e.Primary || e.IsPrimary {
			p.Email, p.EmailVerified = e.Email, e.Verified || e.IsConfirmed
		}
	}
}

// bitbucketProfile: the primary email counts, when Bitbucket has confirmed it.
func bitbucketProfile(ctx context.Context, c *http.Client, api string, tok *oauth2.Token) (*Profile, error) {
	var u struct {
		UUID        string `json:"uuid"`
		Username    string `json:"username"`
		Nickname    string `json:"nickname"`
		DisplayName string `json:"display_name"`
	}
	if err := getJSON(ctx, c, api+"/2.0/user", tok, &u); err != nil {
		return nil, err
	}
	var emails struct {
		Values []emailEntry `json:"values"`
	}
	if err := getJSON(ctx, c, api+"/2.0/user/emails", tok, &emails); err != nil {
		return nil, err
	}
	login := cmp.Or(u.Username, u.Nickname, u.DisplayName)
	p := &Profile{Subject: u.UUID, Login: login, Username: login}
	p.usePrimaryEmail(emails.Values)
	return p, nil
}

func discordProfile(ctx context.Context, c *http.Client, api string, tok *oauth2.Token) (*Profile, error) {
	var u struct {
		ID       string  `json:"id"`
		Username string  `json:"username"`
		Email    *string `json:"email"`
		Verified bool    `json:"verified"`
	}
	if err := getJSON(ctx, c, api+"/users/@me", tok, &u); err != nil {
		return nil, err
	}
	p := &Profile{Subject: u.ID, Login: u.Username, Username: u.Username}
	if u.Email != nil {
		p.Email, p.EmailVerified = *u.Email, u.Verified
	}
	return p, nil
}

// acceptJSON asks every provider endpoint for JSON: GitHub's token endpoint
// answers form-encoded otherwise.
type acceptJSON struct{ next http.RoundTripper }

func (a acceptJSON) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Accept") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Accept", "application/json")
	}
	return a.next.RoundTrip(r)
}

func newHTTPClient() *http.Client {
	return &http.Client{Timeout: 15 * time.Second, Transport: acceptJSON{http.DefaultTransport}}
}
