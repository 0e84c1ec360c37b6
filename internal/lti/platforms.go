package lti

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// Platform is an LMS registered with the tool.
type Platform struct {
	ID            string   `json:"id" db:"id"`
	Name          string   `json:"name" db:"name"`
	Issuer        string   `json:"issuer" db:"issuer"`
	ClientID      string   `json:"clientId" db:"client_id"`
	DeploymentIDs []string `json:"deploymentIds" db:"-"`
	Deployments   string   `json:"-" db:"deployment_ids"` // JSON
	AuthLoginURL  string   `json:"authLoginUrl" db:"auth_login_url"`
	AuthTokenURL  string   `json:"authTokenUrl" db:"auth_token_url"`
	JWKSURL       string   `json:"jwksUrl" db:"jwks_url"`
	CreatedAt     int64    `json:"createdAt" db:"created_at"`
}

const platformCols = `id, name, issuer, client_id, deployment_ids, auth_login_url, auth_token_url, jwks_url, created_at`

func (p *Platform) decode() error {
	if err := json.Unmarshal([]byte(p.Deployments), &p.DeploymentIDs); err != nil {
		return fmt.Errorf("platform %s deployment ids: %w", p.ID, err)
	}
	return nil
}

// deployed reports whether id is one of the platform's registered deployments.
func (p *Platform) deployed(id string) bool {
	for _, d := range p.DeploymentIDs {
		if d == id {
			return true
		}
	}
	return false
}

// NewPlatform is what an administrator registers.
type NewPlatform struct {
	Name          string   `json:"name"`
	Issuer        string   `json:"issuer"`
	ClientID      string   `json:"clientId"`
	DeploymentIDs []string `json:"deploymentIds"`
	AuthLoginURL  string   `json:"authLoginUrl"`
	AuthTokenURL  string   `json:"authTokenUrl"`
	JWKSURL       string   `json:"jwksUrl"`
}

func checkURL(field, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errs.Invalid("invalid_platform", "%s must be an http(s) URL, as the LMS's registration page gives it.", field)
	}
	return nil
}

func (n *NewPlatform) check() error {
	n.Name, n.Issuer, n.ClientID = strings.TrimSpace(n.Name), strings.TrimSpace(n.Issuer), strings.TrimSpace(n.ClientID)
	if n.Name == "" || len(n.Name) > 100 {
		return errs.Invalid("invalid_platform", "Name the platform (1 to 100 characters), such as \"Canvas\".")
	}
	if n.Issuer == "" || n.ClientID == "" {
		return errs.Invalid("invalid_platform", "The issuer and client id are required; the LMS shows them when the tool is registered.")
	}
	var ids []string
	for _, d := range n.DeploymentIDs {
		if d = strings.TrimSpace(d); d != "" {
			ids = append(ids, d)
		}
	}
	if len(ids) == 0 {
		return errs.Invalid("invalid_platform", "Give at least one deployment id; the LMS shows it for each place the tool is installed.")
	}
	n.DeploymentIDs = ids
	for field, u := range map[string]string{"authLoginUrl": n.AuthLoginURL, "authTokenUrl": n.AuthTokenURL, "jwksUrl": n.JWKSURL} {
		if err := checkURL(field, u); err != nil {
			return err
		}
	}
	return nil
}

// Platforms lists the registered platforms.
func (s *Service) Platforms(ctx context.Context) ([]Platform, error) {
	var ps []Platform
	if err := s.db.Select(ctx, &ps, `SELECT `+platformCols+` FROM lti_platforms ORDER BY created_at, id`); err != nil {
		return nil, fmt.Errorf("list LMS platforms: %w", err)
	}
	for i := range ps {
		if err := ps[i].decode(); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// AddPlatform registers an LMS.
func (s *Service) AddPlatform(ctx context.Context, by *auth.User, n NewPlatform) (*Platform, error) {
	if err := n.check(); err != nil {
		return nil, err
	}
	deps, err := json.Marshal(n.DeploymentIDs)
	if err != nil {
		return nil, fmt.Errorf("encode deployment ids: %w", err)
	}
	p := &Platform{ID: store.NewID(), Name: n.Name, Issuer: n.Issuer, ClientID: n.ClientID, DeploymentIDs: n.DeploymentIDs,
		Deployments: string(deps), AuthLoginURL: n.AuthLoginURL, AuthTokenURL: n.AuthTokenURL, JWKSURL: n.JWKSURL, CreatedAt: store.Now()}
	_, err = s.db.Exec(ctx, `INSERT INTO lti_platforms (`+platformCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Name, p.Issuer, p.ClientID, p.Deployments, p.AuthLoginURL, p.AuthTokenURL, p.JWKSURL, p.CreatedAt)
	if store.IsUnique(err) {
		return nil, errs.Conflict("platform_exists", "A platform with this issuer and client id is registered already.")
	}
	if err != nil {
		return nil, fmt.Errorf("register LMS platform: %w", err)
	}
	s.audit.Record(ctx, by.AuditActor(), "lti.platform.add", audit.Target("lti_platform", p.ID), map[string]any{"issuer": p.Issuer, "name": p.Name})
	return p, nil
}

// RemovePlatform forgets an LMS; courses it made stay, unlinked from it.
func (s *Service) RemovePlatform(ctx context.Context, by *auth.User, id string) error {
	n, err := s.db.Exec(ctx, `DELETE FROM lti_platforms WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("remove LMS platform: %w", err)
	}
	if n == 0 {
		return errNoPlatform
	}
	s.jwks.forget(id)
	s.audit.Record(ctx, by.AuditActor(), "lti.platform.remove", audit.Target("lti_platform", id), nil)
	return nil
}

var errNoPlatform = errs.NotFound("not_found", "No such LMS platform.")

func (s *Service) platform(ctx context.Context, id string) (*Platform, error) {
	var p Platform
	err := s.db.Get(ctx, &p, `SELECT `+platformCols+` FROM lti_platforms WHERE id = ?`, id)
	return found(&p, err)
}

// platformFor finds the platform of an OIDC login or launch. The client
// id may be missing from a login (the LMS has only one registration then).
func (s *Service) platformFor(ctx context.Context, issuer, clientID string) (*Platform, error) {
	var ps []Platform
	err := s.db.Select(ctx, &ps, `SELECT `+platformCols+` FROM lti_platforms WHERE issuer = ? AND (client_id = ? OR ? = '') ORDER BY created_at`,
		issuer, clientID, clientID)
	if err != nil {
		return nil, fmt.Errorf("find LMS platform: %w", err)
	}
	switch {
	case len(ps) == 0:
		return nil, errs.Invalid("unknown_platform", "This LMS (issuer %q, client id %q) is not registered here; an administrator registers it under Settings → LMS platforms.", issuer, clientID)
	case len(ps) > 1:
		return nil, errs.Invalid("unknown_platform", "Several registrations of issuer %q exist here; the LMS must send its client_id.", issuer)
	}
	return &ps[0], ps[0].decode()
}

func found(p *Platform, err error) (*Platform, error) {
	if store.NoRows(err) {
		return nil, errNoPlatform
	}
	if err != nil {
		return nil, fmt.Errorf("get LMS platform: %w", err)
	}
	return p, p.decode()
}
