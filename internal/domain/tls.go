package domain

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// TLS is how certificates for custom domains are obtained.
type TLS struct {
	CA    string         // the ACME directory URL
	Email string         // the ACME account's contact; may be empty
	Roots *x509.CertPool // trusted for the ACME server's own HTTPS; nil: the system's
	// The ports of the platform's listeners, which answer the HTTP-01 and
	// TLS-ALPN-01 challenges themselves: certmagic opens no listener of its
	// own on a port already bound.
	HTTPPort, TLSPort int
}

// certs is certmagic set up for on-demand certificates of verified
// domains, stored under <data>/certs.
type certs struct {
	cache  *certmagic.Cache
	config *certmagic.Config
	issuer *certmagic.ACMEIssuer
	log    *slog.Logger
}

func newCerts(s *Service, o TLS) (*certs, error) {
	if o.CA == "" {
		return nil, errors.New("tls: no ACME directory URL")
	}
	// certmagic logs through zap; what matters to an operator arrives
	// through OnEvent below, in the platform's own log.
	nop := zap.NewNop()
	c := &certs{log: s.log}
	c.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return c.config, nil },
		Logger:           nop,
	})
	c.config = certmagic.New(c.cache, certmagic.Config{
		Storage:  &certmagic.FileStorage{Path: filepath.Join(s.opts.DataDir, "certs")},
		OnDemand: &certmagic.OnDemandConfig{DecisionFunc: s.Decide},
		OnEvent:  s.event,
		Logger:   nop,
	})
	c.issuer = certmagic.NewACMEIssuer(c.config, certmagic.ACMEIssuer{
		CA: o.CA, Email: o.Email, Agreed: true, TrustedRoots: o.Roots,
		AltHTTPPort: o.HTTPPort, AltTLSALPNPort: o.TLSPort,
		Logger: nop,
	})
	c.config.Issuers = []certmagic.Issuer{c.issuer}
	return c, nil
}

func (c *certs) close() { c.cache.Stop() }

// status reads name's certificate from storage.
func (c *certs) status(ctx context.Context, name string) Certificate {
	raw, err := c.config.Storage.Load(ctx, certmagic.StorageKeys.SiteCert(c.issuer.IssuerKey(), name))
	if err != nil {
		return Certificate{Status: "pending"}
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return Certificate{Status: "pending"}
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return Certificate{Status: "pending"}
	}
	at := leaf.NotAfter.UnixMilli()
	return Certificate{Status: "issued", NotAfter: &at}
}

// loaded reports whether a certificate for name is in memory: obtained,
// or loaded from storage by a handshake since the server started.
func (c *certs) loaded(name string) bool { return len(c.cache.AllMatchingCertificates(name)) > 0 }

// drop forgets name's certificate, in memory and in storage.
func (c *certs) drop(ctx context.Context, name string) {
	c.cache.RemoveManaged([]certmagic.SubjectIssuer{{Subject: name}})
	if err := c.config.Storage.Delete(ctx, certmagic.StorageKeys.CertsSitePrefix(c.issuer.IssuerKey(), name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn("delete certificate", "domain", name, "err", err)
	}
}

// Decide is the on-demand decision: a certificate may be obtained for
// name only when it is a verified domain of a project with a live
// deployment, or the platform's own host when its URL is https. It reads
// the database at most, never the network.
func (s *Service) Decide(ctx context.Context, name string) error {
	name = Normalize(name)
	if name == s.platform && strings.HasPrefix(s.opts.PublicURL, "https://") {
		return nil
	}
	r, err := s.lookup(ctx, name)
	if err != nil {
		return err
	}
	if r == nil || r.VerifiedAt == nil {
		return fmt.Errorf("%s is not a verified custom domain", name)
	}
	live, err := s.deploys.Serves(ctx, r.ProjectID)
	if err != nil {
		return fmt.Errorf("deployment of %s: %w", name, err)
	}
	if !live {
		return fmt.Errorf("%s has no live deployment", name)
	}
	return nil
}

// event writes certmagic's certificate events to the log.
func (s *Service) event(ctx context.Context, event string, data map[string]any) error {
	switch event {
	case "cert_obtained", "cert_ocsp_revoked":
		s.log.InfoContext(ctx, "certificate "+event, "identifier", data["identifier"], "issuer", data["issuer"])
	case "cert_failed":
		s.log.WarnContext(ctx, "certificate not obtained", "identifier", data["identifier"], "renewal", data["renewal"], "err", data["error"])
	}
	return nil
}

// TLSConfig is the TLS listener's configuration: certificates of custom
// domains on demand, the TLS-ALPN-01 challenge, HTTP/2 and HTTP/1.1. It
// is nil when TLS is off.
func (s *Service) TLSConfig() *tls.Config {
	if s.certs == nil {
		return nil
	}
	cfg := s.certs.config.TLSConfig()
	cfg.NextProtos = append([]string{"h2", "http/1.1"}, cfg.NextProtos...)
	cfg.MinVersion = tls.VersionTLS12
	return cfg
}

// Challenges answers the ACME HTTP-01 challenges of certificates being
// obtained, and passes every other request to next.
func (s *Service) Challenges(next http.Handler) http.Handler {
	if s.certs == nil {
		return next
	}
	return s.certs.issuer.HTTPChallengeHandler(next)
}
