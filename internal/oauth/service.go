package oauth

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// Options are the operator's choices.
type Options struct {
	PublicURL   string            // callbacks are PublicURL/api/auth/oauth/{provider}/callback
	Clients     map[string]Client // registrations by provider id (github, google, gitlab, bitbucket, discord, slack, azuread)
	AzureTenant string            // Entra ID tenant; "" means common
}

// order is the order the providers are offered in.
var order = []string{"github", "google", "gitlab", "bitbucket", "discord", "slack", "azuread"}

// Service logs people in through providers and keeps their linked identities.
type Service struct {
	db        *store.DB
	accounts  *auth.Service
	audit     *audit.Log
	providers []*provider
	byID      map[string]*provider
}

// NewService offers every provider o registers with both an id and a
// secret, recording links to audits (nil records nothing). Linked
// identities count among an account's ways to log in.
func NewService(db *store.DB, accounts *auth.Service, audits *audit.Log, o Options) *Service {
	if db == nil || accounts == nil {
		panic("oauth.NewService: nil db or accounts")
	}
	s := &Service{db: db, accounts: accounts, audit: audits, byID: map[string]*provider{}}
	accounts.CountLogins(s.CountLogins)
	client, tenant := newHTTPClient(), cmp.Or(o.AzureTenant, "common")
	for _, id := range order {
		c, ok := o.Clients[id]
		if !ok || c.ID == "" || c.Secret == "" {
			continue
		}
		p := newProvider(id, c, strings.TrimSuffix(o.PublicURL, "/"), tenant, client)
		s.providers = append(s.providers, p)
		s.byID[id] = p
	}
	return s
}

// ProviderInfo is a provider as the login page offers it.
type ProviderInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Providers lists the enabled providers in the order they are offered.
func (s *Service) Providers() []ProviderInfo {
	out := []ProviderInfo{}
	for _, p := range s.providers {
		out = append(out, ProviderInfo{ID: p.id, Name: p.name})
	}
	return out
}

// Session keys, and how long a dance or a pending sign-up may take.
const (
	flowKey    = "oauth_flow"
	pendingKey = "oauth_pending"
	flowTTL    = 10 * time.Minute
)

// flow is a dance in progress, kept in the session of the browser that
// started it: the callback must come back to that browser with its state.
type flow struct {
	Provider string `json:"provider"`
	State    string `json:"state"`
	Verifier string `json:"verifier"` // PKCE
	Nonce    string `json:"nonce,omitempty"`
	Next     string `json:"next"`
	LinkTo   string `json:"linkTo,omitempty"` // the logged-in account that started it
	At       int64  `json:"at"`
}

// pending is a provider identity waiting for its new account's username.
type pending struct {
	Provider string `json:"provider"`
	Subject  string `json:"subject"`
	Email    string `json:"email"`
	Login    string `json:"login"`
	Next     string `json:"next"`
	At       int64  `json:"at"`
}

func (s *Service) put(ctx context.Context, key string, v any) {
	b, _ := json.Marshal(v)
	s.accounts.Sessions.Put(ctx, key, string(b))
}

func (s *Service) get(ctx context.Context, key string, v any) bool {
	raw := s.accounts.Sessions.GetString(ctx, key)
	return raw != "" && json.Unmarshal([]byte(raw), v) == nil
}

// shortLived makes an anonymous session, which holds only a dance or a
// pending sign-up, end with them; logging in gives it a full lifetime.
func (s *Service) shortLived(ctx context.Context) {
	s.accounts.Sessions.SetDeadline(ctx, time.Now().Add(flowTTL))
}

func expired(at int64) bool { return store.Now()-at > flowTTL.Milliseconds() }

// Begin starts a dance at provider for this browser and returns the URL
// to send it to. When actor is logged in, the dance links the provider to
// actor's account instead of logging in.
func (s *Service) Begin(ctx context.Context, provider string, actor *auth.User, next string) (string, error) {
	p := s.byID[provider]
	if p == nil {
		return "", errUnknownProvider
	}
	conf, err := p.config(ctx)
	if err != nil {
		return "", err
	}
	f := flow{Provider: p.id, State: rand.Text(), Verifier: oauth2.GenerateVerifier(), Next: next, At: store.Now()}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier)}
	if p.issuer != "" {
		f.Nonce = rand.Text()
		opts = append(opts, oidc.Nonce(f.Nonce))
	}
	if actor != nil {
		f.LinkTo = actor.ID
	} else {
		s.shortLived(ctx)
	}
	s.put(ctx, flowKey, f)
	return conf.AuthCodeURL(f.State, opts...), nil
}

// Outcome is where the browser goes after the callback, and whether the
// dance was linking a provider (its errors belong in Settings).
type Outcome struct {
	Next    string
	Linking bool
}

// Complete finishes the dance the provider sent back with q: it checks the
// state against this browser's, trades the code with the PKCE verifier,
// asks who logged in, then logs them in, links, or signs them up.
func (s *Service) Complete(ctx context.Context, r *http.Request, provider string, q url.Values) (Outcome, error) {
	p := s.byID[provider]
	if p == nil {
		return Outcome{}, errUnknownProvider
	}
	var f flow
	ok := s.get(ctx, flowKey, &f)
	s.accounts.Sessions.Remove(ctx, flowKey) // one use, whatever happens
	out := Outcome{Next: f.Next, Linking: ok && f.LinkTo != ""}
	if !ok || f.Provider != p.id || expired(f.At) || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return out, errState
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" {
			return out, errDenied(p.name)
		}
		return out, errFailed(p.name).With(fmt.Errorf("%s: %s: %s", p.id, e, q.Get("error_description")))
	}
	conf, err := p.config(ctx)
	if err != nil {
		return out, err
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, p.client), q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return out, errFailed(p.name).With(err)
	}
	prof, err := p.profile(ctx, tok, f.Nonce)
	if err != nil {
		return out, errFailed(p.name).With(err)
	}
	next, err := s.settle(ctx, r, p, prof, &f)
	if err != nil {
		return out, err
	}
	out.Next = next
	return out, nil
}

// secondFactorPath is the UI page that asks for a security key.
const secondFactorPath = "/login/second-factor"

// settle decides what a confirmed provider identity means for this browser.
func (s *Service) settle(ctx context.Context, r *http.Request, p *provider, prof *Profile, f *flow) (string, error) {
	if f.LinkTo != "" {
		actor := auth.Actor(r)
		if actor == nil || actor.ID != f.LinkTo {
			return "", errRelogin
		}
		return f.Next, s.link(ctx, actor, p, prof)
	}
	id, err := identityBySubject(ctx, s.db, p.id, prof.Subject)
	if errs.Is(err, errs.KindNotFound) {
		return s.signUp(ctx, r, p, prof, f.Next)
	}
	if err != nil {
		return "", err
	}
	u, err := s.accounts.UserByID(ctx, id.UserID)
	if err != nil {
		return "", err
	}
	id.Email, id.Login = verifiedEmail(prof), prof.Login
	if err := refreshIdentity(ctx, s.db, id); err != nil {
		slog.WarnContext(ctx, "refresh identity", "provider", p.id, "err", err)
	}
	if u.RequireKey {
		// The provider was the first factor; the account's key is the second.
		if err := s.accounts.BeginSecondFactor(ctx, u); err != nil {
			return "", err
		}
		return secondFactorPath + "?next=" + url.QueryEscape(f.Next), nil
	}
	return f.Next, s.accounts.StartSession(ctx, r, u)
}

func verifiedEmail(prof *Profile) string {
	if prof.EmailVerified {
		return prof.Email
	}
	return ""
}

// signUp makes an account for a provider identity no account has linked.
// It needs an email the provider has verified and no account may use it
// yet: an existing account is entered only through providers it linked.
// Where the provider's username is not free here, the person chooses one.
func (s *Service) signUp(ctx context.Context, r *http.Request, p *provider, prof *Profile, next string) (string, error) {
	if !s.accounts.SignupAllowed() {
		return "", auth.ErrSignupClosed
	}
	email, err := auth.NormalizeEmail(prof.Email)
	if !prof.EmailVerified || err != nil {
		return "", errEmailUnverified(p.name)
	}
	if err := s.emailFree(ctx, p.name, email); err != nil {
		return "", err
	}
	pd := pending{Provider: p.id, Subject: prof.Subject, Email: email, Login: prof.Login, Next: next, At: store.Now()}
	name := suggestUsername(prof.Username)
	if name != "" {
		_, err := s.accounts.UserByUsername(ctx, name)
		switch {
		case errs.Is(err, errs.KindNotFound):
			if _, err := s.create(ctx, r, &pd, name); !isCode(err, "username_taken") {
				return next, err
			}
		case err != nil:
			return "", err
		}
	}
	s.shortLived(ctx)
	s.put(ctx, pendingKey, pd)
	q := url.Values{"provider": {p.id}}
	if name != "" {
		q.Set("taken", name)
	}
	return "/signup/username?" + q.Encode(), nil
}

func isCode(err error, code string) bool {
	e, ok := errs.As(err)
	return ok && e.Code == code
}

func (s *Service) emailFree(ctx context.Context, provider, email string) error {
	_, err := s.accounts.UserByEmail(ctx, email)
	if err == nil {
		return errEmailExists(provider)
	}
	if !errs.Is(err, errs.KindNotFound) {
		return err
	}
	return nil
}

// create makes the account, links the identity and logs in.
func (s *Service) create(ctx context.Context, r *http.Request, pd *pending, username string) (*auth.User, error) {
	u, err := s.accounts.CreateExternalUser(ctx, username, pd.Email)
	if isCode(err, "email_taken") {
		return nil, errEmailExists(names[pd.Provider])
	}
	if err != nil {
		return nil, err
	}
	id := &Identity{Provider: pd.Provider, Subject: pd.Subject, UserID: u.ID, Email: pd.Email, Login: pd.Login, CreatedAt: store.Now()}
	if err := insertIdentity(ctx, s.db, id); err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "account created through a provider", "user_id", u.ID, "provider", pd.Provider)
	s.audit.Record(ctx, u.AuditActor(), "account.create", u.AuditTarget(), map[string]any{"provider": pd.Provider})
	return u, s.accounts.StartSession(ctx, r, u)
}

// FinishSignup makes the account of the pending sign-up with the username
// the person chose, and logs in. It returns where to go next. A username
// that is taken or invalid keeps the sign-up pending for another try.
func (s *Service) FinishSignup(ctx context.Context, r *http.Request, username string) (*auth.User, string, error) {
	var pd pending
	if !s.get(ctx, pendingKey, &pd) || expired(pd.At) || s.byID[pd.Provider] == nil {
		s.accounts.Sessions.Remove(ctx, pendingKey)
		return nil, "", errNoPending
	}
	if !s.accounts.SignupAllowed() {
		return nil, "", auth.ErrSignupClosed
	}
	name := names[pd.Provider]
	if _, err := identityBySubject(ctx, s.db, pd.Provider, pd.Subject); err == nil {
		s.accounts.Sessions.Remove(ctx, pendingKey)
		return nil, "", errIdentityTaken(name)
	}
	if err := s.emailFree(ctx, name, pd.Email); err != nil {
		s.accounts.Sessions.Remove(ctx, pendingKey)
		return nil, "", err
	}
	u, err := s.create(ctx, r, &pd, username)
	if err != nil {
		return nil, "", err
	}
	s.accounts.Sessions.Remove(ctx, pendingKey)
	return u, pd.Next, nil
}

// link adds a provider identity to u, the logged-in account.
func (s *Service) link(ctx context.Context, u *auth.User, p *provider, prof *Profile) error {
	id, err := identityBySubject(ctx, s.db, p.id, prof.Subject)
	if err == nil {
		if id.UserID != u.ID {
			return errIdentityTaken(p.name)
		}
		return nil // linked already
	}
	if !errs.Is(err, errs.KindNotFound) {
		return err
	}
	mine, err := identitiesOf(ctx, s.db, u.ID)
	if err != nil {
		return err
	}
	for _, m := range mine {
		if m.Provider == p.id {
			return errAlreadyLinked(p.name)
		}
	}
	id = &Identity{Provider: p.id, Subject: prof.Subject, UserID: u.ID, Email: verifiedEmail(prof), Login: prof.Login, CreatedAt: store.Now()}
	if err := insertIdentity(ctx, s.db, id); err != nil {
		return err
	}
	slog.InfoContext(ctx, "provider linked", "user_id", u.ID, "provider", p.id)
	s.audit.Record(ctx, u.AuditActor(), "identity.link", u.AuditTarget(), map[string]any{"provider": p.id, "login": prof.Login})
	return nil
}

// Identities lists u's linked providers, and whether u could unlink one
// and still log in.
func (s *Service) Identities(ctx context.Context, u *auth.User) ([]Identity, bool, error) {
	ids, err := identitiesOf(ctx, s.db, u.ID)
	if err != nil {
		return nil, false, err
	}
	err = s.accounts.CanRemoveLoginMethod(ctx, u)
	if err != nil && !errs.Is(err, errs.KindConflict) {
		return nil, false, err
	}
	return ids, err == nil, nil
}

// Unlink removes u's identity at provider, unless it is u's last way to
// log in. An identity at a provider the operator has disabled logs nobody
// in, so it may always go.
func (s *Service) Unlink(ctx context.Context, u *auth.User, provider string) error {
	name := names[provider]
	if name == "" {
		return errUnknownProvider
	}
	ids, err := identitiesOf(ctx, s.db, u.ID)
	if err != nil {
		return err
	}
	linked := false
	for _, id := range ids {
		linked = linked || id.Provider == provider
	}
	if !linked {
		return errs.NotFound("not_linked", "You have not linked a %s account.", name)
	}
	if s.byID[provider] != nil {
		if err := s.accounts.CanRemoveLoginMethod(ctx, u); err != nil {
			return err
		}
	}
	if err := deleteIdentities(ctx, s.db, u.ID, provider); err != nil {
		return err
	}
	slog.InfoContext(ctx, "provider unlinked", "user_id", u.ID, "provider", provider)
	s.audit.Record(ctx, u.AuditActor(), "identity.unlink", u.AuditTarget(), map[string]any{"provider": provider})
	return nil
}

// CountLogins counts u's identities at enabled providers: each is a way to
// log in (joined to auth.Service.CountLogins).
func (s *Service) CountLogins(ctx context.Context, u *auth.User) (int, error) {
	ids, err := identitiesOf(ctx, s.db, u.ID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if s.byID[id.Provider] != nil {
			n++
		}
	}
	return n, nil
}
