// Package domain is custom domains: a project's editors add a name such as
// shop.example.com, point its DNS at the platform and prove it, and from
// then on the platform serves the project's live deployment on that name,
// over HTTPS with a certificate it obtains on demand through ACME.
//
// It guarantees: a name is held by one project at a time, and is never one
// of the platform's own (its host, or a name under the preview or deploy
// domain); a name serves a deployment only once the platform fetched its
// token from http://{name}/.well-known/ecode-domain/{token} over the
// network, which proves the name's DNS points here; a certificate is asked
// for only for verified names of projects with a live deployment, and the
// decision is a local lookup, so a handshake for any other name reaches no
// ACME server.
package domain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/project"
	"ecode/internal/runtime/egress"
	"ecode/internal/store"
)

// Deployments is what custom domains need of the deploy capability.
type Deployments interface {
	// ServeDeployment answers r with the project's live deployment.
	ServeDeployment(w http.ResponseWriter, r *http.Request, projectID string)
	// Serves reports whether the project has a live deployment that takes
	// traffic; it starts nothing.
	Serves(ctx context.Context, projectID string) (bool, error)
}

// Options of the domain service.
type Options struct {
	DataDir   string // certificates under DataDir/certs
	PublicURL string // the platform's URL: its host is what a domain's DNS points at
	// Reserved are the platform's other names (the preview and deploy
	// domains): no custom domain is one of them or under one.
	Reserved []string
	// TLS, when set, serves verified domains over HTTPS with certificates
	// obtained on demand; nil serves them over plain HTTP only.
	TLS *TLS
	// Reachable says which addresses the verifier may connect to (public
	// ones and the private networks the operator allows, as for sandboxes'
	// egress), so that Verify cannot probe the host or a private network;
	// nil: public addresses only.
	Reachable func(netip.Addr) bool
	// Dial connects the verifier to a domain; nil is the system's resolver
	// and network, through Reachable. Tests map names to the loopback
	// server here.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Domain is a custom domain as the API shows it.
type Domain struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Verified    bool        `json:"verified"`
	VerifiedAt  *int64      `json:"verifiedAt"`
	Token       string      `json:"token"`
	ProofURL    string      `json:"proofUrl"`
	Record      Record      `json:"record"`
	Certificate Certificate `json:"certificate"`
	URL         string      `json:"url"`
	CreatedAt   int64       `json:"createdAt"`
}

// Record is the DNS record that points a domain at the platform.
type Record struct {
	Type  string `json:"type"` // CNAME, or A when the platform is known by its address
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Certificate is the state of a domain's certificate: none (not verified,
// or no HTTPS), pending (obtained at the first HTTPS visit) or issued.
type Certificate struct {
	Status   string `json:"status"`
	NotAfter *int64 `json:"notAfter"`
}

// Service is the custom domain capability.
type Service struct {
	db       *store.DB
	projects *project.Service
	deploys  Deployments
	audit    *audit.Log
	opts     Options
	log      *slog.Logger
	platform string   // the platform's own host name
	reserved []string // the platform's names: its host and Options.Reserved
	client   *http.Client
	certs    *certs // nil without TLS

	mu    sync.Mutex
	hosts map[string]cachedHost
}

type cachedHost struct {
	row *row // nil: no project holds the name
	at  time.Time
}

// hostTTL bounds how long a name's row is remembered; a change made in
// this process forgets it at once.
const hostTTL = 2 * time.Second

// staleClaim is how long an unverified name stays held: after it, another
// project may add the name, so nobody can sit on a domain they never proved.
const staleClaim = 7 * 24 * time.Hour

// NewService builds the service. It follows the projects on bus: a
// deleted project's domains go with it. Close stops its certificate upkeep.
func NewService(db *store.DB, bus *events.Bus, projects *project.Service, deploys Deployments, audits *audit.Log, opts Options) (*Service, error) {
	if db == nil || bus == nil || projects == nil || deploys == nil {
		panic("domain.NewService: nil db, bus, projects or deployments")
	}
	u, err := url.Parse(opts.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("public url: %w", err)
	}
	dial := opts.Dial
	if dial == nil {
		reachable := opts.Reachable
		if reachable == nil {
			reachable = egress.Reachable(nil)
		}
		dial = egress.Dialer(5*time.Second, reachable).DialContext
	}
	s := &Service{db: db, projects: projects, deploys: deploys, audit: audits, opts: opts, log: slog.Default(),
		platform: Normalize(u.Host), reserved: append([]string{Normalize(u.Host)}, opts.Reserved...), hosts: map[string]cachedHost{},
		client: &http.Client{
			Timeout: 10 * time.Second,
			// The proof is answered by this platform, which never redirects
			// it; following one would let a name steer the server elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true, MaxResponseHeaderBytes: 16 << 10,
				ResponseHeaderTimeout: 5 * time.Second},
		},
	}
	if opts.TLS != nil {
		if s.certs, err = newCerts(s, *opts.TLS); err != nil {
			return nil, err
		}
	}
	events.Subscribe(bus, func(ctx context.Context, e project.Deleted) {
		names, err := deleteProjectDomains(ctx, s.db, e.ProjectID)
		if err != nil {
			s.log.Error("remove a deleted project's domains", "project", e.ProjectID, "err", err)
		}
		for _, n := range names {
			s.released(ctx, n)
		}
	})
	return s, nil
}

// Close stops the certificate upkeep.
func (s *Service) Close() {
	if s.certs != nil {
		s.certs.close()
	}
}

// List returns the project's domains.
func (s *Service) List(ctx context.Context, actor *auth.User, projectID string) ([]Domain, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	rows, err := listDomains(ctx, s.db, p.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Domain, 0, len(rows))
	for _, r := range rows {
		out = append(out, s.view(ctx, r))
	}
	return out, nil
}

// Add gives the project the name, unverified, with a new token to prove it.
func (s *Service) Add(ctx context.Context, actor *auth.User, projectID, name string) (Domain, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Domain{}, err
	}
	name, err = validName(name, s.reserved)
	if err != nil {
		return Domain{}, err
	}
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	now := store.Now()
	r := row{ID: store.NewID(), ProjectID: p.ID, Name: name, Token: hex.EncodeToString(token), CreatedBy: &actor.ID, CreatedAt: now}
	err = s.db.Tx(ctx, func(q store.Q) error {
		held, err := domainByName(ctx, q, name)
		switch {
		case store.NoRows(err):
		case err != nil:
			return fmt.Errorf("look up domain: %w", err)
		case held.ProjectID == p.ID:
			return errs.Conflict("domain_taken", "%s is already a domain of this project.", name)
		case held.VerifiedAt != nil || now-held.CreatedAt < staleClaim.Milliseconds():
			return errs.Conflict("domain_taken", "%s is a domain of another project. Its owner can remove it there.", name)
		default:
			if err := deleteDomain(ctx, q, held.ID); err != nil {
				return err
			}
		}
		if err := insertDomain(ctx, q, &r); err != nil {
			if store.IsUnique(err) {
				return errs.Conflict("domain_taken", "%s is a domain of another project.", name)
			}
			return fmt.Errorf("insert domain: %w", err)
		}
		return nil
	})
	if err != nil {
		return Domain{}, err
	}
	s.forget(name)
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "domain.add", audit.Target("project", p.ID), map[string]any{"domain": name})
	return s.view(ctx, r), nil
}

// Remove takes the name from the project; its certificate is deleted.
func (s *Service) Remove(ctx context.Context, actor *auth.User, projectID, id string) error {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return err
	}
	r, err := s.get(ctx, p.ID, id)
	if err != nil {
		return err
	}
	if err := deleteDomain(ctx, s.db, r.ID); err != nil {
		return err
	}
	s.released(ctx, r.Name)
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "domain.remove", audit.Target("project", p.ID), map[string]any{"domain": r.Name})
	return nil
}

// Verify fetches the domain's proof over the network, from the name as
// DNS resolves it, and marks the domain verified when the answer is its
// token. Otherwise it says what it got instead.
func (s *Service) Verify(ctx context.Context, actor *auth.User, projectID, id string) (Domain, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return Domain{}, err
	}
	r, err := s.get(ctx, p.ID, id)
	if err != nil {
		return Domain{}, err
	}
	if r.VerifiedAt == nil {
		if err := s.check(ctx, r); err != nil {
			return Domain{}, err
		}
		now := store.Now()
		if err := setVerified(ctx, s.db, r.ID, now); err != nil {
			return Domain{}, err
		}
		r.VerifiedAt = &now
		s.forget(r.Name)
		s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "domain.verify", audit.Target("project", p.ID), map[string]any{"domain": r.Name})
	}
	return s.view(ctx, *r), nil
}

func (s *Service) get(ctx context.Context, projectID, id string) (*row, error) {
	r, err := getDomain(ctx, s.db, projectID, id)
	if store.NoRows(err) {
		return nil, errs.NotFound("domain_not_found", "This project has no such domain.")
	}
	if err != nil {
		return nil, fmt.Errorf("read domain: %w", err)
	}
	return r, nil
}

// view is r as the API shows it.
func (s *Service) view(ctx context.Context, r row) Domain {
	scheme := "http"
	if s.certs != nil {
		scheme = "https"
	}
	d := Domain{ID: r.ID, Name: r.Name, Verified: r.VerifiedAt != nil, VerifiedAt: r.VerifiedAt, Token: r.Token,
		ProofURL: proofURL(r), Record: s.record(r.Name), URL: scheme + "://" + r.Name + "/", CreatedAt: r.CreatedAt,
		Certificate: Certificate{Status: "none"}}
	if s.certs != nil && d.Verified {
		d.Certificate = s.certs.status(ctx, r.Name)
	}
	return d
}

// record is the DNS record that points name here: a CNAME to the
// platform's host, or an A (AAAA) record when the platform is reached by
// its address.
func (s *Service) record(name string) Record {
	if ip, err := netip.ParseAddr(s.platform); err == nil {
		if ip.Is4() {
			return Record{Type: "A", Name: name, Value: s.platform}
		}
		return Record{Type: "AAAA", Name: name, Value: s.platform}
	}
	return Record{Type: "CNAME", Name: name, Value: s.platform}
}

// lookup returns the row holding name, or nil, remembered for hostTTL.
func (s *Service) lookup(ctx context.Context, name string) (*row, error) {
	s.mu.Lock()
	c, ok := s.hosts[name]
	s.mu.Unlock()
	if ok && time.Since(c.at) < hostTTL {
		return c.row, nil
	}
	r, err := domainByName(ctx, s.db, name)
	if store.NoRows(err) {
		r, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up domain %s: %w", name, err)
	}
	s.mu.Lock()
	if len(s.hosts) > 10000 {
		clear(s.hosts)
	}
	s.hosts[name] = cachedHost{row: r, at: time.Now()}
	s.mu.Unlock()
	return r, nil
}

func (s *Service) forget(name string) {
	s.mu.Lock()
	delete(s.hosts, name)
	s.mu.Unlock()
}

// released forgets a name no project holds any more, and its certificate.
func (s *Service) released(ctx context.Context, name string) {
	s.forget(name)
	if s.certs != nil {
		s.certs.drop(ctx, name)
	}
}
