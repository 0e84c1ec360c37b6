// Package lti is the platform as an LTI 1.3 tool: LMS platforms
// registered by administrators, OIDC login and launch, Deep Linking,
// Assignment and Grade Services, Names and Role Provisioning, the tool's
// JWKS.
package lti

import (
	"context"
	"net/http"
	"strings"
	"time"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/course"
	"ecode/internal/events"
	"ecode/internal/jobs"
	"ecode/internal/seal"
	"ecode/internal/store"
)

// Options configure the tool.
type Options struct {
	PublicURL string // the platform's own URL, as LMSs reach it
	// Client reaches the LMSs (JWKS, tokens, scores, rosters).
	Client *http.Client
}

// Service is the LTI tool.
type Service struct {
	db       *store.DB
	keys     *seal.Keyring
	accounts *auth.Service
	courses  *course.Service
	queue    *jobs.Queue
	audit    *audit.Log
	opts     Options
	base     string // PublicURL without a trailing slash

	signer keyCache  // the tool's keys, opened once
	jwks   jwksCache // each platform's keys
	tokens tokenCache
}

// New builds the tool, subscribes score passback to course.Graded and
// registers its passback worker on queue.
func New(ctx context.Context, db *store.DB, bus *events.Bus, keys *seal.Keyring, accounts *auth.Service,
	courses *course.Service, queue *jobs.Queue, audits *audit.Log, opts Options) (*Service, error) {
	if db == nil || bus == nil || keys == nil || accounts == nil || courses == nil || queue == nil || opts.PublicURL == "" {
		panic("lti.New: nil db, bus, keyring, accounts, courses or queue, or no public URL")
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 15 * time.Second}
	}
	s := &Service{db: db, keys: keys, accounts: accounts, courses: courses, queue: queue, audit: audits, opts: opts,
		base: strings.TrimRight(opts.PublicURL, "/")}
	s.jwks.sets = map[string]*platformKeys{}
	s.tokens.byKey = map[string]accessToken{}
	if _, err := s.signingKey(ctx); err != nil {
		return nil, err
	}
	jobs.Register(queue, &passbackWorker{s: s})
	events.Subscribe(bus, s.graded)
	courses.UsePassback(s)
	return s, nil
}

// The tool's URLs, as an LMS is told them.
func (s *Service) loginURL() string  { return s.base + "/lti/login" }
func (s *Service) launchURL() string { return s.base + "/lti/launch" }
func (s *Service) jwksURL() string   { return s.base + "/lti/jwks" }

// secureCookies: a cookie for a cross-site form post needs SameSite=None,
// which browsers take only with Secure (so only over https).
func (s *Service) secureCookies() bool { return strings.HasPrefix(s.base, "https://") }

// ToolConfig is what an administrator pastes into the LMS.
type ToolConfig struct {
	LoginURL    string `json:"loginUrl"`
	LaunchURL   string `json:"launchUrl"`
	JWKSURL     string `json:"jwksUrl"`
	DeepLinkURL string `json:"deepLinkUrl"`
}

// Tool returns the tool's configuration for LMS registration.
func (s *Service) Tool() ToolConfig {
	return ToolConfig{LoginURL: s.loginURL(), LaunchURL: s.launchURL(), JWKSURL: s.jwksURL(), DeepLinkURL: s.launchURL()}
}
