// Package server is the composition root: it builds every capability from
// the config and mounts their routes behind one middleware chain. Nothing
// else lives here.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"ecode/internal/auth"
	"ecode/internal/config"
	"ecode/internal/httpx"
	"ecode/internal/monitor"
	"ecode/internal/project"
	"ecode/internal/runtime"
	"ecode/internal/store"
	"ecode/internal/ui"
	"ecode/templates"
)

// Server is the whole platform, ready to serve.
type Server struct {
	Config   config.Config
	DB       *store.DB
	Auth     *auth.Service
	Projects *project.Service
	Router   *httpx.Router
	handler  http.Handler
	bg       sync.WaitGroup
	stop     context.CancelFunc
}

// New opens and migrates the database and builds every service. dist is
// the embedded front end.
func New(ctx context.Context, cfg config.Config, dist fs.FS) (*Server, error) {
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	catalog, err := project.NewCatalog(templates.FS)
	if err != nil {
		db.Close()
		return nil, err
	}
	projects, err := project.NewService(db, cfg.DataDir,
		project.Limits{MaxFile: cfg.MaxFileBytes, MaxProject: cfg.MaxProjectBytes}, catalog)
	if err != nil {
		db.Close()
		return nil, err
	}
	s := &Server{
		Config:   cfg,
		DB:       db,
		Auth:     auth.NewService(db, auth.Options{SecureCookies: cfg.SecureCookies(), AllowSignup: cfg.AllowSignup}),
		Projects: projects,
		Router:   httpx.NewRouter(),
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	preflight := &runtime.Preflight{}
	health := monitor.NewHealth(reg,
		monitor.Check{Name: "db", Run: db.PingContext},
		monitor.DiskCheck(cfg.DataDir, 100<<20),
		monitor.Check{Name: "runtime", Run: preflight.Check},
	)

	health.Routes(s.Router)
	s.Auth.Routes(s.Router)
	s.Projects.Routes(s.Router)
	s.Router.Fallback(ui.New(dist, func(r *http.Request, owner, slug string) bool {
		_, err := projects.BySlug(r.Context(), auth.Actor(r), owner, slug)
		return err == nil
	}))

	var h http.Handler = s.Router
	h = s.Auth.Middleware(h)
	h = httpx.CrossOrigin(h)
	h = httpx.SecurityHeaders(h)
	s.handler = httpx.Observe(httpx.NewMetrics(reg), slog.Default(), h)

	bgctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.stop = cancel
	s.bg.Go(func() { s.Auth.Run(bgctx) })
	s.bg.Go(func() { _ = preflight.Check(bgctx) }) // warm the probe before the first health check
	return s, nil
}

// Handler is the platform's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops background work and closes the database.
func (s *Server) Close() error {
	s.stop()
	s.bg.Wait()
	return s.DB.Close()
}

// Serve listens on the configured address until ctx ends, then shuts down
// gracefully. ready, if set, is called with the bound address.
func (s *Server) Serve(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.Config.Addr, err)
	}
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
