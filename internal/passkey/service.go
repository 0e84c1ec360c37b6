package passkey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// Service registers WebAuthn credentials and logs people in with them.
type Service struct {
	db       *store.DB
	accounts *auth.Service
	audit    *audit.Log
	wa       *webauthn.WebAuthn
	off      error  // why this server cannot offer passkeys, or nil
	origin   string // where browsers use them: scheme://host
}

const (
	// ceremonyTimeout bounds a ceremony: the browser's prompt, and the
	// server's acceptance of its answer.
	ceremonyTimeout = 5 * time.Minute
	// maxPerUser keeps the exclude and allow lists a browser is sent short.
	maxPerUser = 25
)

// NewService builds the service for passkeys used at origin; its host is
// the relying party id. A host that is an IP address cannot have passkeys:
// the service then answers each ceremony with passkeys_unavailable. Either
// way it logs one line saying where passkeys work, or how to turn them on.
// Passkeys count among an account's ways to log in; audits (nil records
// nothing) records them added and removed.
func NewService(db *store.DB, accounts *auth.Service, audits *audit.Log, origin string) *Service {
	if db == nil || accounts == nil {
		panic("passkey.NewService: nil db or accounts")
	}
	s := &Service{db: db, accounts: accounts, audit: audits}
	accounts.CountLogins(s.LoginMethods)
	u, err := url.Parse(origin)
	if err == nil && u.Host != "" {
		s.origin = u.Scheme + "://" + u.Host
	}
	if err == nil && isIP(u.Hostname()) {
		// A normal state for a server reached by IP, rather than a warning.
		slog.Info("passkeys are off: browsers refuse them at an IP address; set ECODE_PASSKEY_ORIGIN (or ECODE_PUBLIC_URL) to an address with a domain name to turn them on",
			"origin", s.origin)
		s.off = errs.Unavailable("passkeys_unavailable",
			"This server is reached by an IP address, where browsers do not allow passkeys or security keys. An administrator turns them on by setting ECODE_PASSKEY_ORIGIN (or ECODE_PUBLIC_URL) to an address with a domain name, such as https://code.example.com.")
		return s
	}
	if err == nil {
		timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTimeout, TimeoutUVD: ceremonyTimeout}
		s.wa, err = webauthn.New(&webauthn.Config{
			RPID:                  u.Hostname(),
			RPDisplayName:         "E-Code",
			RPOrigins:             []string{s.origin},
			AttestationPreference: protocol.PreferNoAttestation,
			AuthenticatorSelection: protocol.AuthenticatorSelection{
				ResidentKey:        protocol.ResidentKeyRequirementPreferred,
				RequireResidentKey: protocol.ResidentKeyNotRequired(),
				UserVerification:   protocol.VerificationPreferred,
			},
			Timeouts: webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
		})
	}
	if err != nil {
		slog.Warn("passkeys are off: ECODE_PASSKEY_ORIGIN is not a usable origin", "origin", origin, "err", err)
		s.off = errs.Unavailable("passkeys_unavailable",
			"Passkeys are not set up on this server. An administrator turns them on by setting ECODE_PASSKEY_ORIGIN to the address people open, such as https://code.example.com.").With(err)
		return s
	}
	slog.Info("passkeys work at " + s.origin)
	return s
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// Availability says whether this server offers passkeys and at which
// origin: a browser elsewhere (at the loopback IP when the origin is
// localhost) must go there to use them.
type Availability struct {
	Available bool   `json:"available"`
	Origin    string `json:"origin"`
	Message   string `json:"message,omitempty"` // why not, and how to turn them on
}

// Availability reports whether and where passkeys work.
func (s *Service) Availability() Availability {
	a := Availability{Available: s.off == nil, Origin: s.origin}
	var e *errs.Error
	if errors.As(s.off, &e) {
		a.Message = e.Message
	}
	return a
}

// Session keys that hold a ceremony between its begin and finish.
const (
	registerKey = "passkey_register"
	loginKey    = "passkey_login"
	secondKey   = "passkey_second_factor"
)

// ceremony is what the server remembers of a prompt it sent a browser.
type ceremony struct {
	Session webauthn.SessionData `json:"session"`
	Name    string               `json:"name,omitempty"` // the new key's name, for a registration
}

func (s *Service) hold(ctx context.Context, key string, c ceremony) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("keep webauthn session: %w", err)
	}
	s.accounts.Sessions.Put(ctx, key, string(raw))
	return nil
}

// take returns the ceremony under key and forgets it, so a challenge is
// answered at most once.
func (s *Service) take(ctx context.Context, key string) (ceremony, error) {
	var c ceremony
	raw := s.accounts.Sessions.PopString(ctx, key)
	if raw == "" {
		return c, errNoCeremony
	}
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return c, errNoCeremony.With(err)
	}
	return c, nil
}

var errUnreadable = errs.Invalid("invalid_credential", "The browser's answer from the security key could not be read; try again.")

// BeginRegistration asks the browser to make a new credential for u, to be
// called name; u's existing ones are excluded, so one key is not added twice.
func (s *Service) BeginRegistration(ctx context.Context, u *auth.User, name string) (*protocol.CredentialCreation, error) {
	if s.off != nil {
		return nil, s.off
	}
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	recs, err := s.records(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(recs) >= maxPerUser {
		return nil, errs.Conflict("too_many_passkeys", "An account may have at most %d security keys and passkeys; remove one first.", maxPerUser)
	}
	h := newHolder(u, recs)
	creation, sd, err := s.wa.BeginRegistration(h,
		webauthn.WithExclusions(webauthn.Credentials(h.creds).CredentialDescriptors()),
		webauthn.WithExtensions(webauthn.WithExtensionCredProps()))
	if err != nil {
		return nil, fmt.Errorf("begin passkey registration: %w", err)
	}
	return creation, s.hold(ctx, registerKey, ceremony{Session: *sd, Name: name})
}

// FinishRegistration checks the browser's answer (body: the credential as
// PublicKeyCredential.toJSON() gives it) and stores the new credential.
func (s *Service) FinishRegistration(ctx context.Context, u *auth.User, body []byte) (*Passkey, error) {
	if s.off != nil {
		return nil, s.off
	}
	c, err := s.take(ctx, registerKey)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, errUnreadable.With(err)
	}
	recs, err := s.records(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	cred, err := s.wa.CreateCredential(newHolder(u, recs), c.Session, parsed)
	if err != nil {
		return nil, errs.Invalid("passkey_rejected", "The security key's answer did not check out, so it was not added; try again.").With(err)
	}
	if len(recs) >= maxPerUser {
		return nil, errs.Conflict("too_many_passkeys", "An account may have at most %d security keys and passkeys; remove one first.", maxPerUser)
	}
	r := &record{
		ID: credentialID(cred.ID), UserID: u.ID, Name: c.Name,
		SignCount: int64(cred.Authenticator.SignCount), CreatedAt: store.Now(), cred: *cred,
	}
	if err := s.insert(ctx, r); err != nil {
		return nil, err
	}
	v := r.view()
	slog.InfoContext(ctx, "passkey added", "user_id", u.ID, "passkey", r.ID,
		"discoverable", v.Discoverable, "backup_eligible", v.BackupEligible)
	s.audit.Record(ctx, u.AuditActor(), "passkey.add", u.AuditTarget(), map[string]any{"passkey": r.ID, "name": r.Name})
	return &v, nil
}

// List lists u's credentials, oldest first.
func (s *Service) List(ctx context.Context, u *auth.User) ([]Passkey, error) {
	recs, err := s.records(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Passkey, len(recs))
	for i := range recs {
		out[i] = recs[i].view()
	}
	return out, nil
}

// Rename names one of u's credentials anew.
func (s *Service) Rename(ctx context.Context, u *auth.User, id, name string) (*Passkey, error) {
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	if err := s.rename(ctx, u.ID, id, name); err != nil {
		return nil, err
	}
	r, err := s.recordByID(ctx, id)
	if err != nil {
		return nil, err
	}
	v := r.view()
	return &v, nil
}

// Delete removes one of u's credentials, unless it is u's last way to log
// in, or the last key while u's logins require one.
func (s *Service) Delete(ctx context.Context, u *auth.User, id string) error {
	recs, err := s.records(ctx, u.ID)
	if err != nil {
		return err
	}
	var target *record
	for i := range recs {
		if recs[i].ID == id {
			target = &recs[i]
		}
	}
	if target == nil {
		return errNotFound
	}
	if u.RequireKey && len(recs) == 1 {
		return errs.Conflict("last_security_key",
			"Your logins require a security key and this is your last one: turn off “Require a security key after the password” first, or add another key.")
	}
	if discoverable(&target.cred) {
		if err := s.accounts.CanRemoveLoginMethod(ctx, u); err != nil {
			return err
		}
	}
	if err := s.remove(ctx, u.ID, id); err != nil {
		return err
	}
	slog.InfoContext(ctx, "passkey removed", "user_id", u.ID, "passkey", id)
	s.audit.Record(ctx, u.AuditActor(), "passkey.remove", u.AuditTarget(), map[string]any{"passkey": id})
	return nil
}

// BeginLogin asks the browser for any passkey it keeps for this site: the
// person picks one, and it names its account itself.
func (s *Service) BeginLogin(ctx context.Context) (*protocol.CredentialAssertion, error) {
	if s.off != nil {
		return nil, s.off
	}
	// Alone, the passkey is both factors: the device it is on, and the
	// fingerprint, face or PIN that unlocks it.
	assertion, sd, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin passkey login: %w", err)
	}
	return assertion, s.hold(ctx, loginKey, ceremony{Session: *sd})
}

var errNotRecognized = errs.Unauthenticated("passkey_not_recognized",
	"That passkey is not registered with E-Code, or it did not confirm it's you (with a fingerprint, face or PIN). Try again or another passkey, or log in with your password.")

// FinishLogin checks a passkey's answer and logs its owner in on r's session.
func (s *Service) FinishLogin(ctx context.Context, r *http.Request, body []byte) (*auth.User, error) {
	if s.off != nil {
		return nil, s.off
	}
	c, err := s.take(ctx, loginKey)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, errUnreadable.With(err)
	}
	var (
		rec       *record
		owner     *auth.User
		lookupErr error
	)
	find := func(rawID, userHandle []byte) (webauthn.User, error) {
		rec, lookupErr = s.recordByID(ctx, credentialID(rawID))
		if lookupErr != nil {
			return nil, lookupErr
		}
		if string(userHandle) != rec.UserID {
			return nil, errNotFound
		}
		if owner, lookupErr = s.accounts.UserByID(ctx, rec.UserID); lookupErr != nil {
			return nil, lookupErr
		}
		return newHolder(owner, []record{*rec}), nil
	}
	_, cred, err := s.wa.ValidatePasskeyLogin(find, c.Session, parsed)
	if lookupErr != nil && !errs.Is(lookupErr, errs.KindNotFound) {
		return nil, lookupErr
	}
	if err != nil {
		return nil, errNotRecognized.With(err)
	}
	if err := s.use(ctx, rec, cred, parsed.Response.AuthenticatorData.Counter, true); err != nil {
		return nil, err
	}
	if err := s.accounts.StartSession(ctx, r, owner); err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "logged in with a passkey", "user_id", owner.ID, "passkey", rec.ID)
	return owner, nil
}

// BeginSecondFactor asks the browser for one of the keys of the account
// whose password this session has just passed.
func (s *Service) BeginSecondFactor(ctx context.Context) (*protocol.CredentialAssertion, error) {
	if s.off != nil {
		return nil, s.off
	}
	u, err := s.accounts.PendingSecondFactor(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := s.records(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errs.Conflict("no_security_key",
			"This account requires a security key but has none; ask an administrator to turn the requirement off.")
	}
	// The password was the first factor: the key's presence is the second,
	// so no PIN or fingerprint is asked for.
	assertion, sd, err := s.wa.BeginLogin(newHolder(u, recs), webauthn.WithUserVerification(protocol.VerificationDiscouraged))
	if err != nil {
		return nil, fmt.Errorf("begin second factor: %w", err)
	}
	return assertion, s.hold(ctx, secondKey, ceremony{Session: *sd})
}

// FinishSecondFactor checks the key's answer for the pending login and, when
// it is one of that account's keys, logs the account in on r's session.
func (s *Service) FinishSecondFactor(ctx context.Context, r *http.Request, body []byte) (*auth.User, error) {
	if s.off != nil {
		return nil, s.off
	}
	u, err := s.accounts.PendingSecondFactor(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.take(ctx, secondKey)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return nil, errUnreadable.With(err)
	}
	recs, err := s.records(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	cred, err := s.wa.ValidateLogin(newHolder(u, recs), c.Session, parsed)
	if err != nil {
		return nil, errs.Unauthenticated("key_not_accepted",
			"That key is not one registered to this account, or its answer did not check out. Try again with your registered key.").With(err)
	}
	var rec *record
	for i := range recs {
		if recs[i].ID == credentialID(cred.ID) {
			rec = &recs[i]
		}
	}
	if rec == nil {
		return nil, fmt.Errorf("validated credential %s is not among %s's", credentialID(cred.ID), u.ID)
	}
	if err := s.use(ctx, rec, cred, parsed.Response.AuthenticatorData.Counter, false); err != nil {
		return nil, err
	}
	if err := s.accounts.StartSession(ctx, r, u); err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "logged in with a password and a security key", "user_id", u.ID, "passkey", rec.ID)
	return u, nil
}

// SetRequired turns on or off u's requirement of a key after the password;
// turning it on needs a key to meet it.
func (s *Service) SetRequired(ctx context.Context, u *auth.User, required bool) (*auth.User, error) {
	if required {
		recs, err := s.records(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if len(recs) == 0 {
			return nil, errs.Conflict("no_security_key", "Add a security key first: logins would need one.")
		}
	}
	if err := s.accounts.SetRequireKey(ctx, u, required); err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "second factor changed", "user_id", u.ID, "require_key", required)
	return s.accounts.UserByID(ctx, u.ID)
}

// use records a successful assertion by r with counter count, refusing it
// when the counter did not move forward (§6.1.1 of WebAuthn: either count
// being non-zero means the authenticator keeps one). discovered says the
// credential just logged in without a username, so it is discoverable.
func (s *Service) use(ctx context.Context, r *record, c *webauthn.Credential, count uint32, discovered bool) error {
	if (count != 0 || r.SignCount != 0) && int64(count) <= r.SignCount {
		return s.refuseClone(ctx, r, count)
	}
	next := *c
	next.Authenticator.SignCount = count
	next.Authenticator.CloneWarning = r.cred.Authenticator.CloneWarning
	if discovered && !discoverable(&next) {
		yes := true
		next.Extensions.RK = &yes
	}
	moved, err := s.advance(ctx, r, &next, count, store.Now())
	if err != nil {
		return err
	}
	if !moved { // another login with the same counter got there first
		return s.refuseClone(ctx, r, count)
	}
	return nil
}

func (s *Service) refuseClone(ctx context.Context, r *record, count uint32) error {
	slog.WarnContext(ctx, "passkey counter did not move forward, as a cloned authenticator's would; login refused",
		"user_id", r.UserID, "passkey", r.ID, "stored_count", r.SignCount, "count", count)
	if err := s.markCloned(ctx, r); err != nil {
		slog.WarnContext(ctx, "keep clone warning", "passkey", r.ID, "err", err)
	}
	return errCloned
}
