package domain

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"ecode/internal/errs"
)

// proofPrefix is where the platform answers a domain's token, on the
// domain itself.
const proofPrefix = "/.well-known/ecode-domain/"

func proofURL(r row) string { return "http://" + r.Name + proofPrefix + r.Token }

// check fetches r's proof URL and returns nil when the answer is r's token.
func (s *Service) check(ctx context.Context, r *row) error {
	u := proofURL(*r)
	unverified := func(saw string) error {
		rec := s.record(r.Name)
		return errs.Conflict("domain_unverified",
			"%s is not verified yet: fetching %s %s. Make %s record for %s pointing to %s, wait for DNS to update, then verify again.",
			r.Name, u, saw, article(rec.Type), r.Name, rec.Value)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("proof request: %w", err)
	}
	res, err := s.client.Do(req)
	if err != nil {
		var dns *net.DNSError
		switch {
		case errors.As(err, &dns) && dns.IsNotFound:
			return unverified("found no DNS record for the name")
		case errors.As(err, &dns):
			return unverified("could not resolve the name (" + dns.Err + ")")
		default:
			// Which address refused is the network's business; say what kind of failure it was.
			var op *net.OpError
			if errors.As(err, &op) {
				return unverified("could not connect to the address the name resolves to (" + op.Op + " failed)")
			}
			return unverified("got no answer in time")
		}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 256))
	switch {
	case res.StatusCode != http.StatusOK:
		// Only the status: what another server says is none of our users' business.
		return unverified(fmt.Sprintf("got HTTP %d, so the name does not reach this server", res.StatusCode))
	case subtle.ConstantTimeCompare([]byte(strings.TrimSpace(string(body))), []byte(r.Token)) != 1:
		return unverified("got an answer without this domain's token, so the name reaches another server")
	}
	return nil
}

func article(recordType string) string {
	if recordType == "CNAME" {
		return "a CNAME"
	}
	return "an " + recordType
}

// Claims reports whether r is for a project's custom domain: such requests
// are the domain's, never the platform's.
func (s *Service) Claims(r *http.Request) bool {
	name := Normalize(r.Host)
	if !s.couldHold(name) {
		return false
	}
	row, err := s.lookup(r.Context(), name)
	if err != nil {
		s.log.ErrorContext(r.Context(), "look up custom domain", "host", r.Host, "err", err)
	}
	return row != nil
}

// ProjectOf says which project's custom domain r is for, if any.
func (s *Service) ProjectOf(r *http.Request) (string, bool) {
	name := Normalize(r.Host)
	if !s.couldHold(name) {
		return "", false
	}
	row, err := s.lookup(r.Context(), name)
	if err != nil || row == nil {
		return "", false // Claims logs it, and the answer is this server's
	}
	return row.ProjectID, true
}

// couldHold reports whether a project could hold name, without a lookup:
// the platform's own names and addresses never are a custom domain.
func (s *Service) couldHold(name string) bool {
	if _, err := netip.ParseAddr(name); err == nil || name == "" {
		return false
	}
	return !own(name, s.reserved)
}

// ServeHTTP answers a request for a custom domain: its proof, or, once
// verified, the project's live deployment.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	row, err := s.lookup(r.Context(), Normalize(r.Host))
	if err != nil {
		page(w, http.StatusServiceUnavailable, "Domain unavailable", "This site cannot be served right now.")
		return
	}
	if row == nil { // removed since Claims
		page(w, http.StatusNotFound, "Nothing here", "No project serves this domain.")
		return
	}
	if token, ok := strings.CutPrefix(r.URL.Path, proofPrefix); ok {
		if subtle.ConstantTimeCompare([]byte(token), []byte(row.Token)) != 1 {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, row.Token)
		return
	}
	if row.VerifiedAt == nil {
		page(w, http.StatusNotFound, "Domain not verified", "This domain has been added to a project but not verified yet.")
		return
	}
	// Once its certificate is in hand, the domain is served over HTTPS only.
	if r.TLS == nil && s.certs != nil && s.certs.loaded(row.Name) {
		u := *r.URL
		u.Scheme, u.Host = "https", row.Name
		http.Redirect(w, r, u.String(), http.StatusPermanentRedirect)
		return
	}
	s.deploys.ServeDeployment(w, r, row.ProjectID)
}

func page(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>%s</title><h1>%s</h1><p>%s</p>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(msg))
}
