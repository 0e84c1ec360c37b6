package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"

	"ecode/internal/config"
	"ecode/internal/domain"
)

// domainOptions are the custom domains' settings: the platform's own
// names, and with ECODE_TLS_ADDR the ACME server and the ports where the
// platform's listeners answer its challenges.
func domainOptions(cfg config.Config) (domain.Options, error) {
	o := domain.Options{DataDir: cfg.DataDir, PublicURL: cfg.PublicURL, Reserved: []string{cfg.PreviewDomain, cfg.DeployDomain}}
	if cfg.TLSAddr == "" {
		return o, nil
	}
	httpPort, err := port(cfg.Addr)
	if err != nil {
		return o, err
	}
	tlsPort, err := port(cfg.TLSAddr)
	if err != nil {
		return o, err
	}
	o.TLS = &domain.TLS{CA: cfg.ACMECA, Email: cfg.ACMEEmail, HTTPPort: httpPort, TLSPort: tlsPort}
	if cfg.ACMECARoot != "" {
		pem, err := os.ReadFile(cfg.ACMECARoot)
		if err != nil {
			return o, fmt.Errorf("ACME CA root: %w", err)
		}
		o.TLS.Roots = x509.NewCertPool()
		if !o.TLS.Roots.AppendCertsFromPEM(pem) {
			return o, fmt.Errorf("ACME CA root %s: no PEM certificate in it", cfg.ACMECARoot)
		}
	}
	return o, nil
}

// port is the port of a listen address; the challenges need a fixed one.
func port(addr string) (int, error) {
	_, p, err := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("listen address %q needs a fixed port when ECODE_TLS_ADDR is set", addr)
	}
	return n, nil
}

// serveTLS starts the HTTPS listener of custom domains when ECODE_TLS_ADDR
// is set: the same handler as the HTTP one. Its end is sent to errc; the
// function returned shuts it down.
func (s *Server) serveTLS(errc chan<- error) (func(context.Context) error, error) {
	cfg := s.Domains.TLSConfig()
	if cfg == nil {
		return func(context.Context) error { return nil }, nil
	}
	ln, err := net.Listen("tcp", s.Config.TLSAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", s.Config.TLSAddr, err)
	}
	hs := &http.Server{Handler: s.handler, TLSConfig: cfg}
	s.Configure(hs)
	// Scanners open handshakes for names no project holds all day long; a
	// refused one is routine, not a warning.
	hs.ErrorLog = slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug)
	slog.Info("serving custom domains over HTTPS", "addr", ln.Addr().String())
	go func() {
		if err := hs.ServeTLS(ln, "", ""); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("https listener: %w", err)
		}
	}()
	return hs.Shutdown, nil
}
