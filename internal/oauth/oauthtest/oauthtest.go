// Package oauthtest plays the login providers for tests: a Provider is a
// local server that speaks one provider's real authorization-code flow
// (its authorize page approves at once, as the person set with LogInAs),
// checks the PKCE S256 challenge and verifier and the client's secret, and
// serves that provider's own token answer and user API shapes. The OpenID
// Connect providers (Google, GitLab, Slack, Entra ID) also publish
// discovery and a JWKS, and sign id_tokens with RS256.
package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Kinds are the providers this package plays.
var Kinds = []string{"github", "google", "gitlab", "bitbucket", "discord", "slack", "azuread"}

// DefaultTenant is the Entra ID directory people belong to unless User.Tenant says otherwise.
const DefaultTenant = "9b7f1c2e-0000-4000-8000-00000000e1d1"

// User is the person who approves at the provider.
type User struct {
	ID            string // GitHub and Discord: digits; Bitbucket: {uuid}; OIDC: sub; Entra ID: oid
	Login         string
	Name          string
	Email         string
	EmailVerified bool
	Tenant        string // Entra ID directory; DefaultTenant when empty
}

// Person is a User of kind's with an id of the shape kind gives: digits
// for GitHub and Discord, a {uuid} for Bitbucket.
func Person(kind, login, email string, verified bool) User {
	id := kind + "-" + login
	switch kind {
	case "github", "discord":
		id = strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(login)))+1, 10)
	case "bitbucket":
		id = "{" + login + "-6f1d-4c55-9d3e-2f4a1b0c9d7e}"
	}
	name := login
	if login != "" {
		name = strings.ToUpper(login[:1]) + login[1:]
	}
	return User{ID: id, Login: login, Name: name, Email: email, EmailVerified: verified}
}

// Provider is a running fake of one provider.
type Provider struct {
	Kind         string
	URL          string // the base URL to configure (ECODE_OAUTH_<KIND>_BASE_URL)
	ClientID     string
	ClientSecret string
	// Interactive makes the authorize page a form that asks who logs in
	// (for browser tests), instead of approving at once as LogInAs's person.
	Interactive bool

	mu     sync.Mutex
	user   *User
	deny   bool
	grants map[string]*grant // by code
	tokens map[string]*User  // by access token
}

type grant struct {
	user        User
	challenge   string
	redirectURI string
	nonce       string
	tenant      string
}

// New starts a fake of kind (one of Kinds); it stops when the test ends.
func New(t testing.TB, kind string) *Provider {
	t.Helper()
	p := NewProvider(kind)
	srv := httptest.NewServer(p.Handler())
	p.URL = srv.URL
	t.Cleanup(srv.Close)
	return p
}

// NewProvider returns a fake of kind to serve with Handler at URL, which
// the caller sets.
func NewProvider(kind string) *Provider {
	return &Provider{
		Kind: kind, ClientID: kind + "-client", ClientSecret: kind + "-secret-" + rand.Text(),
		grants: map[string]*grant{}, tokens: map[string]*User{},
	}
}

// LogInAs makes u the person who approves every authorize request from now on.
func (p *Provider) LogInAs(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user, p.deny = &u, false
}

// Deny makes the person cancel at the provider's consent page.
func (p *Provider) Deny() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = true
}

// paths are where a provider's authorize and token endpoints are, below URL.
type paths struct{ authorize, token string }

var endpoints = map[string]paths{
	"github":    {"/login/oauth/authorize", "/login/oauth/access_token"},
	"bitbucket": {"/site/oauth2/authorize", "/site/oauth2/access_token"},
	"discord":   {"/oauth2/authorize", "/api/oauth2/token"},
	"google":    {"/o/oauth2/v2/auth", "/token"},
	"gitlab":    {"/oauth/authorize", "/oauth/token"},
	"slack":     {"/openid/connect/authorize", "/api/openid.connect.token"},
}

func (p *Provider) paths(tenant string) paths {
	if p.Kind == "azuread" {
		return paths{"/" + tenant + "/oauth2/v2.0/authorize", "/" + tenant + "/oauth2/v2.0/token"}
	}
	ps, ok := endpoints[p.Kind]
	if !ok {
		panic("oauthtest: unknown provider " + p.Kind)
	}
	return ps
}

// Handler serves the provider.
func (p *Provider) Handler() http.Handler {
	mux := http.NewServeMux()
	if p.Kind == "azuread" {
		mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", p.discovery)
		mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", jwks)
		mux.HandleFunc("/{tenant}/oauth2/v2.0/authorize", p.authorize)
		mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", p.token)
		return mux
	}
	ps := p.paths("")
	mux.HandleFunc(ps.authorize, p.authorize)
	mux.HandleFunc("POST "+ps.token, p.token)
	switch p.Kind {
	case "github":
		mux.HandleFunc("GET /api/v3/user", p.api(githubUser))
		mux.HandleFunc("GET /api/v3/user/emails", p.api(githubEmails))
	case "bitbucket":
		mux.HandleFunc("GET /2.0/user", p.api(bitbucketUser))
		mux.HandleFunc("GET /2.0/user/emails", p.api(bitbucketEmails))
	case "discord":
		mux.HandleFunc("GET /api/users/@me", p.api(discordUser))
	case "google":
		mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
		mux.HandleFunc("GET /oauth2/v3/certs", jwks)
		mux.HandleFunc("GET /v1/userinfo", p.api(p.userinfo))
	case "gitlab":
		mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
		mux.HandleFunc("GET /oauth/discovery/keys", jwks)
		mux.HandleFunc("GET /oauth/userinfo", p.api(p.userinfo))
	case "slack":
		mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
		mux.HandleFunc("GET /openid/connect/keys", jwks)
		mux.HandleFunc("GET /api/openid.connect.userInfo", p.api(p.userinfo))
	}
	return mux
}

// authorize is the consent page, approved (or cancelled) at once, or
// when Interactive, a form that posts back here who logs in.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		q = r.PostForm
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != p.ClientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case err != nil || !redirect.IsAbs():
		http.Error(w, "redirect_uri must be an absolute URL", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		http.Error(w, "PKCE is required: code_challenge with code_challenge_method S256", http.StatusBadRequest)
		return
	case p.oidc() && !strings.Contains(" "+q.Get("scope")+" ", " openid "):
		http.Error(w, "scope must include openid", http.StatusBadRequest)
		return
	}
	if p.Interactive && r.Method != http.MethodPost {
		consentPage.Execute(w, map[string]any{"Kind": p.Kind, "Query": q})
		return
	}
	p.mu.Lock()
	user, deny := p.user, p.deny
	if p.Interactive {
		u := Person(p.Kind, q.Get("login"), q.Get("email"), q.Get("verified") == "on")
		user, deny = &u, q.Get("decision") != "allow"
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	if deny || user == nil {
		back.Set("error", "access_denied")
		back.Set("error_description", "The user denied the request")
	} else {
		code := rand.Text()
		p.grants[code] = &grant{user: *user, challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri"),
			nonce: q.Get("nonce"), tenant: r.PathValue("tenant")}
		back.Set("code", code)
	}
	p.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (p *Provider) oidc() bool {
	return p.Kind == "google" || p.Kind == "gitlab" || p.Kind == "slack" || p.Kind == "azuread"
}

// token trades a code for tokens, checking the client and the PKCE verifier.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.tokenError(w, r, "invalid_request", err.Error())
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		p.tokenError(w, r, "invalid_client", "client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		p.tokenError(w, r, "unsupported_grant_type", "only authorization_code")
		return
	}
	p.mu.Lock()
	code := r.PostForm.Get("code")
	g := p.grants[code]
	delete(p.grants, code) // a code is good once, whatever happens
	p.mu.Unlock()
	switch {
	case g == nil:
		p.tokenError(w, r, "invalid_grant", "the code is unknown or used")
		return
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		p.tokenError(w, r, "invalid_grant", "redirect_uri differs from the authorize request's")
		return
	case challenge(r.PostForm.Get("code_verifier")) != g.challenge:
		p.tokenError(w, r, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}
	access := rand.Text()
	p.mu.Lock()
	p.tokens[access] = &g.user
	p.mu.Unlock()
	out := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 3600}
	switch p.Kind {
	case "github":
		out = map[string]any{"access_token": access, "token_type": "bearer", "scope": "read:user,user:email"}
		if !strings.Contains(r.Header.Get("Accept"), "application/json") {
			// GitHub answers form-encoded unless asked for JSON.
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			fmt.Fprint(w, url.Values{"access_token": {access}, "token_type": {"bearer"}, "scope": {"read:user,user:email"}}.Encode())
			return
		}
	case "bitbucket":
		out["scopes"], out["refresh_token"], out["state"] = "account email", rand.Text(), "authorization_code"
	case "discord":
		out["scope"], out["refresh_token"] = "identify email", rand.Text()
	case "slack":
		out["ok"] = true
	}
	if p.oidc() {
		out["id_token"] = p.idToken(g)
	}
	writeJSON(w, out)
}

// tokenError answers in each provider's way: GitHub and Slack with 200 and
// an error field, the rest with 400 as RFC 6749 says.
func (p *Provider) tokenError(w http.ResponseWriter, _ *http.Request, code, desc string) {
	switch p.Kind {
	case "github":
		writeJSON(w, map[string]any{"error": code, "error_description": desc})
	case "slack":
		writeJSON(w, map[string]any{"ok": false, "error": code})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"error": code, "error_description": desc})
	}
}

func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// api serves a user API resource to the holder of an access token.
func (p *Provider) api(serve func(u *User) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		p.mu.Lock()
		u := p.tokens[tok]
		p.mu.Unlock()
		if !ok || u == nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		writeJSON(w, serve(u))
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

func githubUser(u *User) any {
	id, _ := strconv.ParseInt(u.ID, 10, 64)
	return map[string]any{"login": u.Login, "id": id, "node_id": "U_" + u.ID, "type": "User", "name": u.Name,
		"email": nil, "avatar_url": "https://avatars.example/u/" + u.ID}
}

func githubEmails(u *User) any {
	return []map[string]any{
		{"email": u.Login + "@users.noreply.github.com", "primary": false, "verified": true, "visibility": nil},
		{"email": u.Email, "primary": true, "verified": u.EmailVerified, "visibility": "private"},
	}
}

func bitbucketUser(u *User) any {
	return map[string]any{"type": "user", "uuid": u.ID, "username": u.Login, "nickname": u.Login,
		"display_name": u.Name, "account_id": "557058:" + strings.Trim(u.ID, "{}"), "links": map[string]any{}}
}

func bitbucketEmails(u *User) any {
	return map[string]any{"pagelen": 10, "page": 1, "size": 1, "values": []map[string]any{
		{"type": "email", "email": u.Email, "is_primary": true, "is_confirmed": u.EmailVerified, "links": map[string]any{}},
	}}
}

func discordUser(u *User) any {
	var email any
	if u.Email != "" {
		email = u.Email
	}
	return map[string]any{"id": u.ID, "username": u.Login, "discriminator": "0", "global_name": u.Name, "avatar": nil,
		"verified": u.EmailVerified, "email": email, "mfa_enabled": false, "locale": "en-US"}
}

// claims are what the OIDC providers tell of u, in the id_token and userinfo.
func (p *Provider) claims(u *User) map[string]any {
	c := map[string]any{"sub": u.ID, "name": u.Name}
	switch p.Kind {
	case "google":
		c["email"], c["email_verified"], c["given_name"] = u.Email, u.EmailVerified, u.Name
	case "gitlab":
		c["nickname"], c["preferred_username"], c["email"], c["email_verified"] = u.Login, u.Login, u.Email, u.EmailVerified
		c["sub_legacy"], c["profile"] = "legacy-"+u.ID, p.URL+"/"+u.Login
	case "slack":
		c["email"], c["email_verified"], c["date_email_verified"] = u.Email, u.EmailVerified, time.Now().Unix()
		c["https://slack.com/user_id"], c["https://slack.com/team_id"] = u.ID, "T0TEAM"
	case "azuread":
		// sub is pairwise (per application); oid and tid name the person.
		c["sub"], c["oid"], c["tid"] = "pairwise-"+challenge(u.ID)[:20], u.ID, tenantOf(u)
		c["preferred_username"], c["email"], c["ver"] = u.Login, u.Email, "2.0"
		if u.EmailVerified {
			c["xms_edov"] = true
		}
	}
	return c
}

func (p *Provider) userinfo(u *User) any {
	c := p.claims(u)
	if p.Kind == "slack" {
		c["ok"] = true
	}
	return c
}

func tenantOf(u *User) string {
	if u.Tenant != "" {
		return u.Tenant
	}
	return DefaultTenant
}

// issuer is who signs tokens for u: Entra ID names the person's directory.
func (p *Provider) issuer(u *User) string {
	if p.Kind == "azuread" {
		return p.URL + "/" + tenantOf(u) + "/v2.0"
	}
	return p.URL
}

func (p *Provider) idToken(g *grant) string {
	c := p.claims(&g.user)
	now := time.Now().Unix()
	c["iss"], c["aud"], c["iat"], c["exp"] = p.issuer(&g.user), p.ClientID, now, now+3600
	if g.nonce != "" {
		c["nonce"] = g.nonce
	}
	return sign(c)
}

// discovery is the OpenID Provider configuration. Entra ID's multi-tenant
// endpoints (common, organizations, consumers) publish an issuer template.
func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	issuer, base := p.URL, p.URL
	if p.Kind == "azuread" {
		base = p.URL + "/" + tenant
		issuer = base + "/v2.0"
		if tenant == "common" || tenant == "organizations" || tenant == "consumers" {
			issuer = p.URL + "/{tenantid}/v2.0"
		}
	}
	ps := p.paths(tenant)
	doc := map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                p.URL + ps.authorize,
		"token_endpoint":                        p.URL + ps.token,
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
	switch p.Kind {
	case "google":
		doc["jwks_uri"], doc["userinfo_endpoint"] = base+"/oauth2/v3/certs", base+"/v1/userinfo"
	case "gitlab":
		doc["jwks_uri"], doc["userinfo_endpoint"] = base+"/oauth/discovery/keys", base+"/oauth/userinfo"
	case "slack":
		doc["jwks_uri"], doc["userinfo_endpoint"] = base+"/openid/connect/keys", base+"/api/openid.connect.userInfo"
	case "azuread":
		doc["jwks_uri"], doc["userinfo_endpoint"] = base+"/discovery/v2.0/keys", "https://graph.microsoft.com/oidc/userinfo"
		doc["tenant_region_scope"] = "EU"
	}
	writeJSON(w, doc)
}

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to {{.Kind}} (test provider)</title></head>
<body><main><h1>Sign in to {{.Kind}}</h1>
<p>A stand-in for the provider, for tests: say who you are there.</p>
<form method="post">
{{range $k, $v := .Query}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">
{{end}}<p><label>Login <input name="login" required></label></p>
<p><label>Email <input name="email" type="email"></label></p>
<p><label><input name="verified" type="checkbox" checked> Email verified</label></p>
<p><button name="decision" value="allow">Authorize</button> <button name="decision" value="deny">Cancel</button></p>
</form></main></body></html>
`))
