package lti

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"ecode/internal/auth"
	"ecode/internal/course"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// Claim names of LTI 1.3 Core, Deep Linking 2.0, AGS 2.0 and NRPS 2.0.
const (
	claimMessageType  = "https://purl.imsglobal.org/spec/lti/claim/message_type"
	claimVersion      = "https://purl.imsglobal.org/spec/lti/claim/version"
	claimDeploymentID = "https://purl.imsglobal.org/spec/lti/claim/deployment_id"
	claimDLItems      = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
	claimDLData       = "https://purl.imsglobal.org/spec/lti-dl/claim/data"

	msgResourceLink = "LtiResourceLinkRequest"
	msgDeepLinking  = "LtiDeepLinkingRequest"
	msgDLResponse   = "LtiDeepLinkingResponse"
	ltiVersion      = "1.3.0"
)

const (
	stateCookie = "ecode_lti_state"
	stateTTL    = 10 * time.Minute
	clockSkew   = 60 * time.Second
	// jwksTTL is how long a platform's keys are trusted without asking
	// again; jwksRefetch is the least time between fetches for an unknown
	// kid, so forged kids cannot make the tool hammer the LMS.
	jwksTTL     = time.Hour
	jwksRefetch = 10 * time.Second
)

// Claims is what the tool reads of a launch's id_token.
type Claims struct {
	Issuer     string   `json:"iss"`
	Audience   audience `json:"aud"`
	AZP        string   `json:"azp"`
	Subject    string   `json:"sub"`
	Expires    float64  `json:"exp"`
	IssuedAt   float64  `json:"iat"`
	Nonce      string   `json:"nonce"`
	Name       string   `json:"name"`
	GivenName  string   `json:"given_name"`
	FamilyName string   `json:"family_name"`
	Email      string   `json:"email"`

	MessageType  string         `json:"https://purl.imsglobal.org/spec/lti/claim/message_type"`
	Version      string         `json:"https://purl.imsglobal.org/spec/lti/claim/version"`
	DeploymentID string         `json:"https://purl.imsglobal.org/spec/lti/claim/deployment_id"`
	Roles        []string       `json:"https://purl.imsglobal.org/spec/lti/claim/roles"`
	Custom       map[string]any `json:"https://purl.imsglobal.org/spec/lti/claim/custom"`
	Context      *struct {
		ID    string `json:"id"`
		Label string `json:"label"`
		Title string `json:"title"`
	} `json:"https://purl.imsglobal.org/spec/lti/claim/context"`
	ResourceLink *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"https://purl.imsglobal.org/spec/lti/claim/resource_link"`
	AGS *struct {
		Scope     []string `json:"scope"`
		LineItems string   `json:"lineitems"`
		LineItem  string   `json:"lineitem"`
	} `json:"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"`
	NRPS *struct {
		ContextMembershipsURL string `json:"context_memberships_url"`
	} `json:"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"`
	DeepLinking *struct {
		ReturnURL   string   `json:"deep_link_return_url"`
		AcceptTypes []string `json:"accept_types"`
		Data        string   `json:"data"`
	} `json:"https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"`
}

// audience is the aud claim: one string or an array of them.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

func (a audience) has(s string) bool {
	for _, x := range a {
		if x == s {
			return true
		}
	}
	return false
}

// custom returns a custom parameter as a string.
func (c *Claims) custom(name string) string {
	switch v := c.Custom[name].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

// Role names of the LIS vocabulary, the long form and the short one NRPS
// may send.
const lisMembership = "http://purl.imsglobal.org/vocab/lis/v2/membership"

// roleOf maps LMS context roles to the course's, the strongest winning;
// ok is false when none of them is a course role this platform knows.
func roleOf(roles []string) (r course.Role, ok bool) {
	rank := map[course.Role]int{course.Student: 1, course.Assistant: 2, course.Teacher: 3}
	for _, raw := range roles {
		var got course.Role
		switch raw {
		case lisMembership + "#Instructor", "Instructor", lisMembership + "#Administrator", "Administrator":
			got = course.Teacher
		case lisMembership + "#TeachingAssistant", lisMembership + "/Instructor#TeachingAssistant", "TeachingAssistant":
			got = course.Assistant
		case lisMembership + "#Learner", "Learner", lisMembership + "/Learner#Learner":
			got = course.Student
		default:
			continue
		}
		if rank[got] > rank[r] {
			r, ok = got, true
		}
	}
	return r, ok
}

// LoginRequest is an LMS's third-party-initiated login.
type LoginRequest struct {
	Issuer, LoginHint, TargetLinkURI, MessageHint, ClientID, DeploymentID string
}

// Login answers the OIDC initiation: a fresh state and nonce are kept
// (single use, 10 minutes) and the URL of the platform's authorization
// endpoint to send the browser to is returned, with the state.
func (s *Service) Login(ctx context.Context, in LoginRequest) (redirect, state string, err error) {
	if in.Issuer == "" || in.LoginHint == "" || in.TargetLinkURI == "" {
		return "", "", errs.Invalid("invalid_login", "An LTI login needs iss, login_hint and target_link_uri.")
	}
	p, err := s.platformFor(ctx, in.Issuer, in.ClientID)
	if err != nil {
		return "", "", err
	}
	if in.DeploymentID != "" && !p.deployed(in.DeploymentID) {
		return "", "", errs.Invalid("unknown_deployment", "Deployment %q of this LMS is not registered here; an administrator adds it to the platform.", in.DeploymentID)
	}
	state, nonce := randomToken(), randomToken()
	if _, err := s.db.Exec(ctx, `INSERT INTO lti_states (state, nonce, platform_id, created_at) VALUES (?, ?, ?, ?)`,
		state, nonce, p.ID, store.Now()); err != nil {
		return "", "", fmt.Errorf("keep login state: %w", err)
	}
	s.sweep(ctx)
	q := url.Values{
		"scope": {"openid"}, "response_type": {"id_token"}, "response_mode": {"form_post"}, "prompt": {"none"},
		"client_id": {p.ClientID}, "redirect_uri": {s.launchURL()}, "login_hint": {in.LoginHint},
		"state": {state}, "nonce": {nonce},
	}
	if in.MessageHint != "" {
		q.Set("lti_message_hint", in.MessageHint)
	}
	u, err := url.Parse(p.AuthLoginURL)
	if err != nil {
		return "", "", fmt.Errorf("platform %s auth login URL: %w", p.ID, err)
	}
	for k, v := range u.Query() { // keep what the LMS's URL carries already
		if q.Get(k) == "" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), state, nil
}

// sweep forgets expired login states and deep-linking requests.
func (s *Service) sweep(ctx context.Context) {
	now := time.Now()
	if _, err := s.db.Exec(ctx, `DELETE FROM lti_states WHERE created_at < ?`, now.Add(-2*stateTTL).UnixMilli()); err != nil {
		slog.WarnContext(ctx, "sweep LTI login states", "err", err)
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM lti_deep_links WHERE created_at < ?`, now.Add(-2*deepLinkTTL).UnixMilli()); err != nil {
		slog.WarnContext(ctx, "sweep deep-linking requests", "err", err)
	}
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// errBadLaunch refuses a launch that fails a security check.
func errBadLaunch(format string, args ...any) error {
	return errs.Unauthenticated("invalid_launch", format, args...)
}

// Verify checks a launch: the state (known, unused, fresh, the browser's
// cookie when it came), the id_token's signature against the platform's
// JWKS and its claims. The state is spent whatever the outcome.
func (s *Service) Verify(ctx context.Context, idToken, state, cookieState string) (*Platform, *Claims, error) {
	if idToken == "" || state == "" {
		return nil, nil, errs.Invalid("invalid_launch", "A launch needs id_token and state; start it from the LMS.")
	}
	if cookieState != "" && cookieState != state {
		return nil, nil, errBadLaunch("The launch's state does not match this browser's login; start again from the LMS.")
	}
	var st struct {
		Nonce      string `db:"nonce"`
		PlatformID string `db:"platform_id"`
		CreatedAt  int64  `db:"created_at"`
	}
	err := s.db.Get(ctx, &st, `SELECT nonce, platform_id, created_at FROM lti_states WHERE state = ?`, state)
	if store.NoRows(err) {
		return nil, nil, errBadLaunch("Unknown login state; start again from the LMS.")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get login state: %w", err)
	}
	n, err := s.db.Exec(ctx, `UPDATE lti_states SET used_at = ? WHERE state = ? AND used_at = 0`, store.Now(), state)
	if err != nil {
		return nil, nil, fmt.Errorf("spend login state: %w", err)
	}
	if n == 0 {
		return nil, nil, errBadLaunch("This login was used already; start again from the LMS.")
	}
	if time.Since(time.UnixMilli(st.CreatedAt)) > stateTTL {
		return nil, nil, errBadLaunch("The login took longer than 10 minutes; start again from the LMS.")
	}
	p, err := s.platform(ctx, st.PlatformID)
	if err != nil {
		return nil, nil, err
	}
	payload, err := s.verifySignature(ctx, p, []byte(idToken))
	if err != nil {
		return nil, nil, err
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, nil, errBadLaunch("The id_token's claims cannot be read: %v.", err)
	}
	if err := checkClaims(p, &c, st.Nonce, time.Now()); err != nil {
		return nil, nil, err
	}
	return p, &c, nil
}

// checkClaims applies LTI 1.3 Core §5.1.3 (with the Security Framework's
// id_token rules) to verified claims.
func checkClaims(p *Platform, c *Claims, nonce string, now time.Time) error {
	switch {
	case c.Issuer != p.Issuer:
		return errBadLaunch("The id_token's issuer %q is not the platform's.", c.Issuer)
	case !c.Audience.has(p.ClientID):
		return errBadLaunch("The id_token is not meant for this tool (audience %v).", []string(c.Audience))
	case (len(c.Audience) > 1 || c.AZP != "") && c.AZP != p.ClientID:
		return errBadLaunch("The id_token's authorized party %q is not this tool.", c.AZP)
	case c.Expires == 0 || now.After(time.Unix(int64(c.Expires), 0).Add(clockSkew)):
		return errBadLaunch("The id_token has expired.")
	case c.IssuedAt == 0 || time.Unix(int64(c.IssuedAt), 0).After(now.Add(clockSkew)):
		return errBadLaunch("The id_token was issued in the future; check the LMS's clock.")
	case c.Nonce == "" || c.Nonce != nonce:
		return errBadLaunch("The id_token's nonce does not belong to this login (a replayed launch).")
	case c.Subject == "":
		return errBadLaunch("Anonymous launches are not supported: the id_token has no sub.")
	case !p.deployed(c.DeploymentID):
		return errBadLaunch("Deployment %q of this LMS is not registered here; an administrator adds it to the platform.", c.DeploymentID)
	case c.Version != ltiVersion:
		return errs.Invalid("invalid_launch", "LTI version %q is not supported; this tool speaks 1.3.0.", c.Version)
	case c.MessageType != msgResourceLink && c.MessageType != msgDeepLinking:
		return errs.Invalid("invalid_launch", "Message type %q is not supported.", c.MessageType)
	case c.Context == nil || c.Context.ID == "":
		return errs.Invalid("invalid_launch", "Launch the tool from within a course: the launch names no context.")
	case c.MessageType == msgResourceLink && (c.ResourceLink == nil || c.ResourceLink.ID == ""):
		return errs.Invalid("invalid_launch", "A resource link launch must name its resource link.")
	case c.MessageType == msgDeepLinking && (c.DeepLinking == nil || c.DeepLinking.ReturnURL == ""):
		return errs.Invalid("invalid_launch", "A deep-linking request must carry its settings and return URL.")
	}
	return nil
}

// verifySignature checks the JWS against the platform's key of its kid
// (RS256 only) and returns the payload.
func (s *Service) verifySignature(ctx context.Context, p *Platform, token []byte) ([]byte, error) {
	msg, err := jws.Parse(token)
	if err != nil || len(msg.Signatures()) != 1 {
		return nil, errBadLaunch("The id_token is not a signed JWT.")
	}
	hdr := msg.Signatures()[0].ProtectedHeaders()
	if alg, _ := hdr.Algorithm(); alg != jwa.RS256() {
		return nil, errBadLaunch("The id_token must be signed with RS256, not %q.", alg.String())
	}
	kid, _ := hdr.KeyID()
	key, err := s.jwks.key(ctx, s.opts.Client, p, kid)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(token, jws.WithKey(jwa.RS256(), key))
	if err != nil {
		return nil, errBadLaunch("The id_token's signature does not verify with the LMS's keys.")
	}
	return payload, nil
}

// jwksCache keeps each platform's JWKS.
type jwksCache struct {
	mu   sync.Mutex
	sets map[string]*platformKeys
}

type platformKeys struct {
	set     jwk.Set
	fetched time.Time
}

func (c *jwksCache) forget(platformID string) {
	c.mu.Lock()
	delete(c.sets, platformID)
	c.mu.Unlock()
}

// key returns the platform's public key kid, fetching the JWKS when it is
// stale or lacks kid (keys rotate). Without a kid, a set of one key
// gives that key.
func (c *jwksCache) key(ctx context.Context, client *http.Client, p *Platform, kid string) (jwk.Key, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pk := c.sets[p.ID]
	if k, ok := lookup(pk, kid); ok && time.Since(pk.fetched) < jwksTTL {
		return k, nil
	}
	if pk != nil && time.Since(pk.fetched) < jwksRefetch {
		return nil, errBadLaunch("The id_token names key %q, which is not in the LMS's JWKS.", kid)
	}
	set, err := jwk.Fetch(ctx, p.JWKSURL, jwk.WithHTTPClient(client))
	if err != nil {
		slog.WarnContext(ctx, "fetch LMS JWKS", "platform", p.ID, "url", p.JWKSURL, "err", err)
		return nil, errs.Unavailable("jwks_unavailable", "The LMS's keys (%s) could not be fetched; try again, or ask an administrator to check the platform's JWKS URL.", p.JWKSURL)
	}
	pk = &platformKeys{set: set, fetched: time.Now()}
	c.sets[p.ID] = pk
	if k, ok := lookup(pk, kid); ok {
		return k, nil
	}
	return nil, errBadLaunch("The id_token names key %q, which is not in the LMS's JWKS.", kid)
}

func lookup(pk *platformKeys, kid string) (jwk.Key, bool) {
	if pk == nil {
		return nil, false
	}
	if kid == "" {
		if pk.set.Len() == 1 {
			return pk.set.Key(0)
		}
		return nil, false
	}
	return pk.set.LookupKeyID(kid)
}

// Launched is where a verified launch sends the browser.
type Launched struct {
	User     *auth.User
	Redirect string
}

// Launch acts on a verified launch: the person's account (made on their
// first launch), the course (an instructor's first launch creates it),
// their role in it, the AGS and NRPS endpoints; then where to go.
func (s *Service) Launch(ctx context.Context, p *Platform, c *Claims) (*Launched, error) {
	role, known := roleOf(c.Roles)
	if !known {
		role = course.Student // least privilege for roles the platform has no name for
	}
	courseID, err := s.contextCourse(ctx, p, c.Context.ID)
	if err != nil {
		return nil, err
	}
	if courseID == "" && role != course.Teacher {
		return nil, errs.Conflict("course_not_linked", "Ask your instructor to open E-Code from this course first.")
	}
	if c.MessageType == msgDeepLinking && role != course.Teacher {
		return nil, errs.Forbidden("forbidden", "Only instructors can add E-Code assignments to the LMS course.")
	}
	u, err := s.account(ctx, p, c.Subject, c.Name, c.GivenName, c.Email)
	if err != nil {
		return nil, err
	}
	if role == course.Teacher {
		crs, err := s.courses.LinkContext(ctx, u, course.ContextLink{PlatformID: p.ID, ContextID: c.Context.ID, Title: firstOf(c.Context.Title, c.Context.Label)})
		if err != nil {
			return nil, err
		}
		courseID = crs.ID
	}
	if err := s.courses.Enroll(ctx, courseID, u, role); err != nil {
		return nil, err
	}
	membersURL := ""
	if c.NRPS != nil {
		membersURL = c.NRPS.ContextMembershipsURL
	}
	if err := s.saveContext(ctx, courseID, p.ID, c.Context.ID, c.DeploymentID, membersURL); err != nil {
		return nil, err
	}
	out := &Launched{User: u, Redirect: "/courses/" + courseID}
	if c.MessageType == msgDeepLinking {
		token, err := s.saveDeepLink(ctx, p, courseID, u, c)
		if err != nil {
			return nil, err
		}
		out.Redirect = "/lti/deep-link/" + token
		return out, nil
	}
	assignmentID := c.custom("assignment_id")
	if c.AGS != nil {
		if err := s.saveLink(ctx, courseID, c.ResourceLink.ID, assignmentID, c.ResourceLink.Title, c.AGS.LineItem, c.AGS.LineItems, c.AGS.Scope); err != nil {
			return nil, err
		}
	}
	if assignmentID == "" {
		return out, nil
	}
	if role != course.Student {
		out.Redirect = "/courses/" + courseID + "/assignments/" + url.PathEscape(assignmentID)
		return out, nil
	}
	proj, err := s.courses.StartCopy(ctx, u, courseID, assignmentID)
	if err != nil {
		return nil, err
	}
	out.Redirect = "/@" + proj.Owner + "/" + proj.Slug
	return out, nil
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// contextCourse returns the course an LMS context is linked to, or ""
// when none is (or its course was deleted since).
func (s *Service) contextCourse(ctx context.Context, p *Platform, contextID string) (string, error) {
	var id string
	err := s.db.Get(ctx, &id, `SELECT course_id FROM lti_contexts WHERE platform_id = ? AND context_id = ?`, p.ID, contextID)
	if store.NoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find linked course: %w", err)
	}
	if _, err := s.courses.CourseOf(ctx, id); errs.Is(err, errs.KindNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return id, nil
}

// saveContext records the link of a course to its LMS context, and the
// context's roster service when the launch names one.
func (s *Service) saveContext(ctx context.Context, courseID, platformID, contextID, deploymentID, membersURL string) error {
	return s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `DELETE FROM lti_contexts WHERE platform_id = ? AND context_id = ? AND course_id <> ?`,
			platformID, contextID, courseID); err != nil {
			return fmt.Errorf("forget a stale course link: %w", err)
		}
		_, err := q.Exec(ctx, `INSERT INTO lti_contexts (course_id, platform_id, context_id, deployment_id, memberships_url) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (course_id) DO UPDATE SET platform_id = excluded.platform_id, context_id = excluded.context_id,
			deployment_id = excluded.deployment_id,
			memberships_url = CASE WHEN excluded.memberships_url <> '' THEN excluded.memberships_url ELSE lti_contexts.memberships_url END`,
			courseID, platformID, contextID, deploymentID, membersURL)
		if err != nil {
			return fmt.Errorf("link course to LMS context: %w", err)
		}
		return nil
	})
}

// saveLink records a resource link's AGS endpoints.
func (s *Service) saveLink(ctx context.Context, courseID, linkID, assignmentID, title, lineitem, lineitems string, scopes []string) error {
	sc, err := json.Marshal(scopes)
	if err != nil {
		return fmt.Errorf("encode AGS scopes: %w", err)
	}
	_, err = s.db.Exec(ctx, `INSERT INTO lti_links (course_id, resource_link_id, assignment_id, title, lineitem_url, lineitems_url, scopes, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (course_id, resource_link_id) DO UPDATE SET assignment_id = excluded.assignment_id, title = excluded.title,
		lineitem_url = CASE WHEN excluded.lineitem_url <> '' THEN excluded.lineitem_url ELSE lti_links.lineitem_url END,
		lineitems_url = excluded.lineitems_url, scopes = excluded.scopes, updated_at = excluded.updated_at`,
		courseID, linkID, assignmentID, title, lineitem, lineitems, string(sc), store.Now())
	if err != nil {
		return fmt.Errorf("record AGS endpoint: %w", err)
	}
	return nil
}

// account returns the account of an LMS person, making it on their first
// launch. The email claim is used when no account has it; otherwise a
// placeholder, since an LMS's word on an email never opens an existing
// account.
func (s *Service) account(ctx context.Context, p *Platform, sub, name, givenName, email string) (*auth.User, error) {
	var userID string
	err := s.db.Get(ctx, &userID, `SELECT user_id FROM lti_users WHERE platform_id = ? AND sub = ?`, p.ID, sub)
	switch {
	case err == nil:
		u, err := s.accounts.UserByID(ctx, userID)
		if err == nil {
			return u, nil
		}
		if !errs.Is(err, errs.KindNotFound) {
			return nil, err
		}
		// The account was deleted: the person starts afresh.
		if _, err := s.db.Exec(ctx, `DELETE FROM lti_users WHERE platform_id = ? AND sub = ?`, p.ID, sub); err != nil {
			return nil, fmt.Errorf("forget deleted LMS account: %w", err)
		}
	case !store.NoRows(err):
		return nil, fmt.Errorf("find LMS account: %w", err)
	}
	sum := sha256.Sum256([]byte(p.ID + "\x00" + sub))
	placeholder := hex.EncodeToString(sum[:10]) + "@lti.invalid"
	if _, err := auth.NormalizeEmail(email); err != nil {
		email = placeholder
	}
	base := suggestUsername(givenName, name, strings.Split(email, "@")[0])
	var u *auth.User
	for i := 0; u == nil; i++ {
		candidate := base
		switch {
		case i >= 20:
			return nil, errs.Conflict("username_taken", "No free username for this LMS person; try again.")
		case i >= 10:
			candidate = clipName(base, 5) + "-" + strings.ToLower(randomToken()[:4])
		case i > 0:
			candidate = fmt.Sprintf("%s%d", clipName(base, 2), i+1)
		}
		u, err = s.accounts.CreateExternalUser(ctx, candidate, email)
		switch {
		case isCode(err, "username_taken"), isCode(err, "invalid_username"):
			u = nil
		case isCode(err, "email_taken") && email != placeholder:
			email, u = placeholder, nil
			i--
		case err != nil:
			return nil, err
		}
	}
	_, err = s.db.Exec(ctx, `INSERT INTO lti_users (platform_id, sub, user_id, created_at) VALUES (?, ?, ?, ?)`, p.ID, sub, u.ID, store.Now())
	if err != nil {
		return nil, fmt.Errorf("link LMS account: %w", err)
	}
	s.audit.Record(ctx, u.AuditActor(), "account.create", u.AuditTarget(), map[string]any{"provider": "lti", "platform": p.ID})
	return u, nil
}

// clipName leaves room for a suffix of n characters within a username's 32.
func clipName(s string, n int) string {
	if len(s) > 32-n {
		return strings.TrimRight(s[:32-n], "-_")
	}
	return s
}

// suggestUsername makes a username out of the first of a person's names
// that gives one: lower-case, other characters as '-'.
func suggestUsername(names ...string) string {
	for _, n := range names {
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(n)) {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
				b.WriteRune(r)
			case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
				b.WriteByte('-')
			}
		}
		name := strings.Trim(b.String(), "-_")
		if len(name) > 32 {
			name = strings.TrimRight(name[:32], "-_")
		}
		if u, err := auth.NormalizeUsername(name); err == nil {
			return u
		}
	}
	return "student"
}

func isCode(err error, code string) bool {
	e, ok := errs.As(err)
	return ok && e.Code == code
}
