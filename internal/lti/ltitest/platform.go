// Package ltitest is a mock LMS for tests: an LTI 1.3 platform that
// follows the IMS specifications (Core 1.3 with the Security Framework,
// Deep Linking 2.0, AGS 2.0, NRPS 2.0) over a real HTTP server. It signs
// launches with its own RSA key, checks the tool's authorization
// requests and client assertions against the tool's JWKS, records scores
// and serves a paged roster; tests can make it forge launches or refuse
// scores.
package ltitest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// Role URIs of the LIS vocabulary.
const (
	Instructor        = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
	TeachingAssistant = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
	Learner           = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
)

const (
	DeploymentID = "deployment-1"
	pageSize     = 2 // roster entries per page, so paging is exercised
)

// Platform is the mock LMS. Set ToolJWKS and RedirectURI (the tool's)
// before the tool talks to it.
type Platform struct {
	*httptest.Server
	ClientID    string
	ToolJWKS    string // where the platform fetches the tool's keys
	RedirectURI string // the tool's launch URL, the one redirect_uri allowed

	key, otherKey jwk.Key

	mu        sync.Mutex
	pending   map[string]Message // login_hint → the launch to make
	tokens    map[string][]string
	lineItems []*LineItem
	scores    []Score
	failNext  map[string]int // userId → scores still to refuse
	failCode  int
	members   []Member
	Requests  []string // "METHOD path" of every service request, in order
}

// Message is one launch the platform makes: who, where, what.
type Message struct {
	Subject, Name, GivenName, Email string
	Roles                           []string
	ContextID, ContextTitle         string
	ResourceLinkID, Title           string
	Custom                          map[string]string
	DeepLinking                     bool   // an LtiDeepLinkingRequest instead of a resource link
	LineItem                        string // the AGS lineitem claim (empty: only lineitems)
	Forge                           Forge
}

// Forge makes a launch wrong in one way.
type Forge struct {
	WrongKey     bool     // signed with a key the JWKS does not hold (same kid)
	Audience     []string // instead of the client id
	Expired      bool     // exp an hour ago
	DeploymentID string   // instead of the registered one
	Nonce        string   // instead of the tool's
}

// LineItem is an AGS line item.
type LineItem struct {
	ID             string  `json:"id"`
	ScoreMaximum   float64 `json:"scoreMaximum"`
	Label          string  `json:"label"`
	ResourceID     string  `json:"resourceId,omitempty"`
	ResourceLinkID string  `json:"resourceLinkId,omitempty"`
}

// Score is a score the tool posted.
type Score struct {
	LineItem         string  `json:"-"`
	UserID           string  `json:"userId"`
	ScoreGiven       float64 `json:"scoreGiven"`
	ScoreMaximum     float64 `json:"scoreMaximum"`
	Comment          string  `json:"comment"`
	Timestamp        string  `json:"timestamp"`
	ActivityProgress string  `json:"activityProgress"`
	GradingProgress  string  `json:"gradingProgress"`
}

// Member is a roster entry (NRPS).
type Member struct {
	UserID     string   `json:"user_id"`
	Status     string   `json:"status,omitempty"`
	Name       string   `json:"name,omitempty"`
	GivenName  string   `json:"given_name,omitempty"`
	FamilyName string   `json:"family_name,omitempty"`
	Email      string   `json:"email,omitempty"`
	Roles      []string `json:"roles"`
}

// New starts a platform registered with the tool as clientID; it stops
// when the test ends.
func New(t testing.TB, clientID string) *Platform {
	t.Helper()
	p := &Platform{ClientID: clientID, pending: map[string]Message{}, tokens: map[string][]string{}, failNext: map[string]int{}}
	p.key, p.otherKey = newKey(t, "platform-key"), newKey(t, "platform-key")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /jwks", p.serveJWKS)
	mux.HandleFunc("GET /auth", p.serveAuth)
	mux.HandleFunc("POST /auth", p.serveAuth)
	mux.HandleFunc("POST /token", p.serveToken)
	mux.HandleFunc("GET /lineitems", p.serveLineItems)
	mux.HandleFunc("POST /lineitems", p.serveLineItems)
	mux.HandleFunc("POST /lineitems/{id}/scores", p.serveScores)
	mux.HandleFunc("GET /memberships", p.serveMembers)
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func newKey(t testing.TB, kid string) jwk.Key {
	t.Helper()
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(jwk.AlgorithmKey, jwa.RS256()); err != nil {
		t.Fatal(err)
	}
	return k
}

// Registration is what an administrator enters in the tool for this platform.
func (p *Platform) Registration(name string) map[string]any {
	return map[string]any{"name": name, "issuer": p.URL, "clientId": p.ClientID, "deploymentIds": []string{DeploymentID},
		"authLoginUrl": p.URL + "/auth", "authTokenUrl": p.URL + "/token", "jwksUrl": p.URL + "/jwks"}
}

// MembershipsURL is the context's roster service.
func (p *Platform) MembershipsURL() string { return p.URL + "/memberships" }

func (p *Platform) serveJWKS(w http.ResponseWriter, r *http.Request) {
	pub, err := p.key.PublicKey()
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	writeJSON(w, "application/json", set)
}

func writeJSON(w http.ResponseWriter, ctype string, v any) {
	w.Header().Set("Content-Type", ctype)
	_ = json.NewEncoder(w).Encode(v)
}

// Form is the auto-submitting form the platform answers /auth with: what
// the browser posts to the tool.
type Form struct {
	Action  string
	IDToken string
	State   string
}

// Values is the form's body.
func (f Form) Values() url.Values { return url.Values{"id_token": {f.IDToken}, "state": {f.State}} }

// serveAuth is the OIDC authorization endpoint (response_mode form_post).
func (p *Platform) serveAuth(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	q := r.Form
	for name, want := range map[string]string{"scope": "openid", "response_type": "id_token", "response_mode": "form_post",
		"prompt": "none", "client_id": p.ClientID, "redirect_uri": p.RedirectURI} {
		if q.Get(name) != want {
			http.Error(w, fmt.Sprintf("invalid_request: %s is %q, want %q", name, q.Get(name), want), 400)
			return
		}
	}
	if q.Get("nonce") == "" || q.Get("state") == "" {
		http.Error(w, "invalid_request: nonce and state are required", 400)
		return
	}
	p.mu.Lock()
	m, ok := p.pending[q.Get("login_hint")]
	delete(p.pending, q.Get("login_hint"))
	p.mu.Unlock()
	if !ok {
		http.Error(w, "login_required: unknown login_hint", 400)
		return
	}
	if m.Subject != q.Get("lti_message_hint") {
		http.Error(w, "invalid_request: lti_message_hint not echoed", 400)
		return
	}
	nonce := q.Get("nonce")
	if m.Forge.Nonce != "" {
		nonce = m.Forge.Nonce
	}
	token, err := p.idToken(m, nonce)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><form method="post" action="%s"><input type="hidden" name="id_token" value="%s"><input type="hidden" name="state" value="%s"></form><script>document.forms[0].submit()</script>`,
		html.EscapeString(p.RedirectURI), html.EscapeString(token), html.EscapeString(q.Get("state")))
}

// idToken signs the launch's claims.
func (p *Platform) idToken(m Message, nonce string) (string, error) {
	now := time.Now()
	exp := now.Add(5 * time.Minute)
	if m.Forge.Expired {
		exp = now.Add(-time.Hour)
	}
	var aud any = p.ClientID
	if m.Forge.Audience != nil {
		aud = m.Forge.Audience
	}
	dep := DeploymentID
	if m.Forge.DeploymentID != "" {
		dep = m.Forge.DeploymentID
	}
	c := map[string]any{
		"iss": p.URL, "aud": aud, "sub": m.Subject, "iat": now.Unix(), "exp": exp.Unix(), "nonce": nonce,
		"name": m.Name, "given_name": m.GivenName, "email": m.Email,
		"https://purl.imsglobal.org/spec/lti/claim/version":       "1.3.0",
		"https://purl.imsglobal.org/spec/lti/claim/deployment_id": dep,
		"https://purl.imsglobal.org/spec/lti/claim/roles":         m.Roles,
		"https://purl.imsglobal.org/spec/lti/claim/context":       map[string]any{"id": m.ContextID, "title": m.ContextTitle, "label": m.ContextID},
		"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": map[string]any{
			"context_memberships_url": p.MembershipsURL(), "service_versions": []string{"2.0"}},
	}
	if m.DeepLinking {
		c["https://purl.imsglobal.org/spec/lti/claim/message_type"] = "LtiDeepLinkingRequest"
		c["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = map[string]any{
			"deep_link_return_url": p.URL + "/deep-link-return", "accept_types": []string{"ltiResourceLink"},
			"accept_presentation_document_targets": []string{"iframe", "window"}, "data": "dl-data-" + m.ContextID}
	} else {
		c["https://purl.imsglobal.org/spec/lti/claim/message_type"] = "LtiResourceLinkRequest"
		c["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = map[string]any{"id": m.ResourceLinkID, "title": m.Title}
		c["https://purl.imsglobal.org/spec/lti/claim/custom"] = m.Custom
		ags := map[string]any{"scope": []string{"https://purl.imsglobal.org/spec/lti-ags/scope/score",
			"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"}, "lineitems": p.URL + "/lineitems"}
		if m.LineItem != "" {
			ags["lineitem"] = m.LineItem
		}
		c["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"] = ags
	}
	key := p.key
	if m.Forge.WrongKey {
		key = p.otherKey
	}
	return sign(key, c)
}

func sign(key jwk.Key, claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.RS256(), key))
	return string(out), err
}

var inputRE = regexp.MustCompile(`name="(id_token|state)" value="([^"]*)"`)
var actionRE = regexp.MustCompile(`action="([^"]*)"`)

// Login plays the browser from the LMS's side: it starts the tool's OIDC
// login at toolLogin (a GET, as an LMS link does), follows the redirect
// to this platform's /auth and returns the form the page would post.
// client carries the browser's cookies.
func (p *Platform) Login(ctx context.Context, client *http.Client, toolLogin string, m Message) (Form, error) {
	hint := randomHint()
	p.mu.Lock()
	p.pending[hint] = m
	p.mu.Unlock()
	q := url.Values{"iss": {p.URL}, "login_hint": {hint}, "target_link_uri": {p.RedirectURI}, "lti_message_hint": {m.Subject},
		"client_id": {p.ClientID}, "lti_deployment_id": {DeploymentID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, toolLogin+"?"+q.Encode(), nil)
	if err != nil {
		return Form{}, err
	}
	res, err := client.Do(req)
	if err != nil {
		return Form{}, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return Form{}, fmt.Errorf("login: %d %s", res.StatusCode, body)
	}
	var f Form
	if a := actionRE.FindSubmatch(body); a != nil {
		f.Action = html.UnescapeString(string(a[1]))
	}
	for _, in := range inputRE.FindAllSubmatch(body, -1) {
		switch v := html.UnescapeString(string(in[2])); string(in[1]) {
		case "id_token":
			f.IDToken = v
		case "state":
			f.State = v
		}
	}
	if f.Action == "" || f.IDToken == "" || f.State == "" {
		return Form{}, fmt.Errorf("login: no launch form in %q", body)
	}
	return f, nil
}

// Post submits a launch form as the browser does, without following the
// tool's redirect.
func Post(ctx context.Context, client *http.Client, f Form) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.Action, strings.NewReader(f.Values().Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c.Do(req)
}

func randomHint() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// toolKeys fetches the tool's JWKS.
func (p *Platform) toolKeys(ctx context.Context) (jwk.Set, error) {
	if p.ToolJWKS == "" {
		return nil, errors.New("the tool's JWKS URL is not set")
	}
	return jwk.Fetch(ctx, p.ToolJWKS)
}

// verifyTool checks a JWT the tool signed, against the tool's JWKS, and
// returns its claims.
func (p *Platform) verifyTool(ctx context.Context, token string) (map[string]any, error) {
	set, err := p.toolKeys(ctx)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify([]byte(token), jws.WithKeySet(set))
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, err
	}
	exp, _ := c["exp"].(float64)
	if time.Unix(int64(exp), 0).Before(time.Now()) {
		return nil, errors.New("expired")
	}
	return c, nil
}

// ContentItem is one item a deep-linking response placed.
type ContentItem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	URL      string            `json:"url"`
	Custom   map[string]string `json:"custom"`
	LineItem *LineItem         `json:"lineItem"`
}

// VerifyDeepLink checks a deep-linking response (the JWT the tool's page
// posts to the return URL) as the platform does, and returns its items.
func (p *Platform) VerifyDeepLink(ctx context.Context, token, contextID string) ([]ContentItem, error) {
	c, err := p.verifyTool(ctx, token)
	if err != nil {
		return nil, err
	}
	for name, want := range map[string]string{"iss": p.ClientID, "aud": p.URL,
		"https://purl.imsglobal.org/spec/lti/claim/message_type":  "LtiDeepLinkingResponse",
		"https://purl.imsglobal.org/spec/lti/claim/version":       "1.3.0",
		"https://purl.imsglobal.org/spec/lti/claim/deployment_id": DeploymentID,
		"https://purl.imsglobal.org/spec/lti-dl/claim/data":       "dl-data-" + contextID} {
		if c[name] != want {
			return nil, fmt.Errorf("%s is %v, want %q", name, c[name], want)
		}
	}
	if c["nonce"] == nil || c["nonce"] == "" {
		return nil, errors.New("no nonce")
	}
	raw, _ := json.Marshal(c["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"])
	var items []ContentItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	return items, nil
}

// serveToken is the client-credentials grant with a JWT client assertion.
func (p *Platform) serveToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request", err.Error())
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" || f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		tokenError(w, "unsupported_grant_type", "client_credentials with a JWT bearer assertion only")
		return
	}
	c, err := p.verifyTool(r.Context(), f.Get("client_assertion"))
	if err != nil {
		tokenError(w, "invalid_client", err.Error())
		return
	}
	if c["iss"] != p.ClientID || c["sub"] != p.ClientID || c["aud"] != p.URL+"/token" || c["jti"] == nil {
		tokenError(w, "invalid_client", fmt.Sprintf("assertion claims iss %v sub %v aud %v", c["iss"], c["sub"], c["aud"]))
		return
	}
	scopes := strings.Fields(f.Get("scope"))
	token := randomHint()
	p.mu.Lock()
	p.tokens[token] = scopes
	p.mu.Unlock()
	writeJSON(w, "application/json", map[string]any{"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": strings.Join(scopes, " ")})
}

func tokenError(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// authorized checks the bearer token holds scope, and logs the request.
func (p *Platform) authorized(w http.ResponseWriter, r *http.Request, scope string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Requests = append(p.Requests, r.Method+" "+r.URL.Path)
	scopes, ok := p.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		http.Error(w, "unknown bearer token", http.StatusUnauthorized)
		return false
	}
	for _, s := range scopes {
		if s == scope {
			return true
		}
	}
	http.Error(w, "token lacks scope "+scope, http.StatusForbidden)
	return false
}

// AddLineItem makes a line item and returns its URL.
func (p *Platform) AddLineItem(label string, max float64, resourceLinkID string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addLineItem(LineItem{Label: label, ScoreMaximum: max, ResourceLinkID: resourceLinkID})
}

func (p *Platform) addLineItem(li LineItem) string {
	li.ID = p.URL + "/lineitems/" + strconv.Itoa(len(p.lineItems)+1) + "?context=c1"
	p.lineItems = append(p.lineItems, &li)
	return li.ID
}

// LineItems returns the line items.
func (p *Platform) LineItems() []LineItem {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]LineItem, len(p.lineItems))
	for i, li := range p.lineItems {
		out[i] = *li
	}
	return out
}

func (p *Platform) serveLineItems(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(w, r, "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem") {
		return
	}
	if r.Method == http.MethodGet {
		writeJSON(w, "application/vnd.ims.lis.v2.lineitemcontainer+json", p.LineItems())
		return
	}
	if r.Header.Get("Content-Type") != "application/vnd.ims.lis.v2.lineitem+json" {
		http.Error(w, "Content-Type must be application/vnd.ims.lis.v2.lineitem+json", http.StatusUnsupportedMediaType)
		return
	}
	var li LineItem
	if err := json.NewDecoder(r.Body).Decode(&li); err != nil || li.Label == "" || li.ScoreMaximum <= 0 {
		http.Error(w, "a line item needs label and scoreMaximum", 400)
		return
	}
	p.mu.Lock()
	li.ID = p.addLineItem(li)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/vnd.ims.lis.v2.lineitem+json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(li)
}

// FailScores makes the next n score posts for userID fail with status.
func (p *Platform) FailScores(userID string, n, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failNext[userID], p.failCode = n, status
}

// Scores returns the scores received.
func (p *Platform) Scores() []Score {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Score(nil), p.scores...)
}

func (p *Platform) serveScores(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(w, r, "https://purl.imsglobal.org/spec/lti-ags/scope/score") {
		return
	}
	if r.Header.Get("Content-Type") != "application/vnd.ims.lis.v1.score+json" {
		http.Error(w, "Content-Type must be application/vnd.ims.lis.v1.score+json", http.StatusUnsupportedMediaType)
		return
	}
	var s Score
	if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failNext[s.UserID] > 0 {
		p.failNext[s.UserID]--
		http.Error(w, "the gradebook is unavailable", p.failCode)
		return
	}
	item := p.URL + "/lineitems/" + r.PathValue("id") + "?" + r.URL.RawQuery
	known := false
	for _, li := range p.lineItems {
		known = known || li.ID == item
	}
	if !known {
		http.Error(w, "no such line item "+item, http.StatusNotFound)
		return
	}
	if _, err := time.Parse(time.RFC3339Nano, s.Timestamp); err != nil || s.UserID == "" ||
		s.ActivityProgress == "" || s.GradingProgress == "" {
		http.Error(w, "a score needs userId, timestamp (ISO 8601), activityProgress and gradingProgress", 400)
		return
	}
	s.LineItem = item
	p.scores = append(p.scores, s)
	w.WriteHeader(http.StatusNoContent)
}

// SetMembers sets the context's roster.
func (p *Platform) SetMembers(ms []Member) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.members = append([]Member(nil), ms...)
}

func (p *Platform) serveMembers(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(w, r, "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly") {
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/vnd.ims.lti-nrps.v2.membershipcontainer+json") {
		http.Error(w, "Accept must name the membership container type", http.StatusNotAcceptable)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	p.mu.Lock()
	from := min(page*pageSize, len(p.members))
	to := min(from+pageSize, len(p.members))
	ms := append([]Member{}, p.members[from:to]...)
	more := to < len(p.members)
	p.mu.Unlock()
	if more {
		w.Header().Add("Link", fmt.Sprintf(`<%s?page=%d>; rel="next"`, p.MembershipsURL(), page+1))
	}
	writeJSON(w, "application/vnd.ims.lti-nrps.v2.membershipcontainer+json", map[string]any{
		"id": p.MembershipsURL(), "context": map[string]string{"id": "ctx"}, "members": ms})
}
