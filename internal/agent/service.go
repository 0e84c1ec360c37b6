// Package agent is the AI agent: from one prompt it builds or changes a
// project through tools that act on the project's files and sandbox,
// streaming every step to the workspace, checkpointing the project as it
// goes, and stopping to ask when it goes round in circles. It also answers
// the editor's inline completions.
package agent

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// Budgets of one run, and the loop guard's patience.
type Budgets struct {
	Steps   int   // tool calls
	Tokens  int64 // input and output together
	Repeats int   // the same failing call this many times stops the run
}

// DefaultBudgets fit building a small app with room to fix mistakes.
var DefaultBudgets = Budgets{Steps: 60, Tokens: 2_000_000, Repeats: 3}

// Service runs agents.
type Service struct {
	db       *store.DB
	projects Projects
	runs     Runner
	dbs      Databases
	snaps    Snapshots
	cfg      Config
	budgets  Budgets
	model    provider
	log      *slog.Logger

	mu     sync.Mutex
	active map[string]*live // by project
	subs   map[string]map[chan Event]struct{}
	wg     sync.WaitGroup
	ctx    context.Context // every run's parent: they end when the server stops
}

// NewService returns the agent; its runs end when life does. With cfg not
// Configured every request answers ai_not_configured.
func NewService(life context.Context, db *store.DB, projects Projects, runs Runner, dbs Databases, snaps Snapshots, cfg Config, budgets Budgets) *Service {
	if db == nil || projects == nil || runs == nil || dbs == nil || snaps == nil {
		panic("agent.NewService: nil db, projects, runs, databases or snapshots")
	}
	s := &Service{db: db, projects: projects, runs: runs, dbs: dbs, snaps: snaps, cfg: cfg, budgets: budgets, log: slog.Default(),
		active: map[string]*live{}, subs: map[string]map[chan Event]struct{}{}, ctx: life}
	if cfg.Configured() {
		s.model = newProvider(cfg)
	}
	return s
}

// Recover marks the runs a previous server left unfinished as failed:
// their loops are gone. The server calls it once, before serving, for
// every project (projectID ""), or, in a cluster, for each project it
// adopts from a dead server. Their holds are settled: the tokens they
// used are charged.
func (s *Service) Recover(ctx context.Context, projectID string) error {
	ids, err := unfinishedRuns(ctx, s.db, projectID)
	if err != nil {
		return err
	}
	if err := failInterrupted(ctx, s.db, projectID); err != nil {
		return err
	}
	s.settleInterrupted(ctx, ids)
	return nil
}

// Wait returns when the service's life has ended and every run with it.
func (s *Service) Wait() {
	<-s.ctx.Done()
	s.wg.Wait()
}

// Status says whether the AI is set up, for the UI.
type Status struct {
	Configured bool   `json:"configured"`
	Model      string `json:"model"`
	Provider   string `json:"provider"`
}

// Status reports the configuration without secrets.
func (s *Service) Status() Status {
	if s.model == nil {
		return Status{Provider: APIAnthropic}
	}
	return Status{Configured: true, Model: s.model.modelName(), Provider: s.model.api()}
}

var errNotConfigured = errs.Unavailable("ai_not_configured",
	"No AI model is set up on this server. The operator sets ECODE_ANTHROPIC_API_KEY (or ECODE_ANTHROPIC_BASE_URL for a compatible server), "+
		"or ECODE_OPENAI_BASE_URL, ECODE_OPENAI_API_KEY and ECODE_AI_MODEL for an OpenAI-compatible one, and restarts.")

const maxPrompt = 32 << 10

// Start begins a run on the project for actor.
func (s *Service) Start(ctx context.Context, actor *auth.User, projectID, prompt string) (*Run, error) {
	if s.model == nil {
		return nil, errNotConfigured
	}
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	prompt = strings.TrimSpace(prompt)
	if prompt == "" || len(prompt) > maxPrompt || !utf8.ValidString(prompt) {
		return nil, errs.Invalid("invalid_prompt", "Describe what to build or change, in up to 32 KB of text.")
	}
	s.mu.Lock()
	if l, busy := s.active[p.ID]; busy && l.header().Status == StatusRunning {
		s.mu.Unlock()
		return nil, errs.Conflict("agent_busy", "The agent is already working on this project; stop it or wait for it to finish.")
	}
	runCtx, cancel := context.WithCancel(s.ctx)
	l := &live{cancel: cancel, done: make(chan struct{}), run: Run{
		ID: store.NewID(), ProjectID: p.ID, UserID: actor.ID, Prompt: prompt, Status: StatusRunning,
		Features: []string{}, Checkpoints: []Checkpoint{}, Steps: []Step{}, Model: s.model.modelName(), CreatedAt: time.Now().UnixMilli(),
	}}
	s.active[p.ID] = l
	s.mu.Unlock()

	if err := s.reserveAndInsert(ctx, &l.run); err != nil {
		s.mu.Lock()
		delete(s.active, p.ID)
		s.mu.Unlock()
		cancel()
		return nil, err
	}
	w := &workspace{projects: s.projects, runs: s.runs, dbs: s.dbs, actor: actor, p: p}
	s.publish(p.ID, Event{Kind: "run", Run: l.header()})
	s.wg.Go(func() {
		defer close(l.done)
		defer cancel()
		s.loop(runCtx, l, w)
	})
	return l.header(), nil
}

// Stop ends the project's run, if it is runID, and waits for it to wind up.
func (s *Service) Stop(ctx context.Context, actor *auth.User, projectID, runID string) error {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return err
	}
	s.mu.Lock()
	l := s.active[p.ID]
	s.mu.Unlock()
	if l == nil || l.header().ID != runID {
		if _, err := getRun(ctx, s.db, p.ID, runID); err != nil {
			return err
		}
		return nil // already over
	}
	l.cancel()
	select {
	case <-l.done:
	case <-ctx.Done():
	}
	return nil
}

// LetGo stops the project's run, if one goes here, without waiting: the
// project was deleted, or another server of the cluster holds it now,
// and no run may go on writing its files or spending its credits here.
func (s *Service) LetGo(projectID string) {
	s.mu.Lock()
	l := s.active[projectID]
	s.mu.Unlock()
	if l != nil {
		l.cancel()
	}
}

// Get returns a run with its steps.
func (s *Service) Get(ctx context.Context, actor *auth.User, projectID, runID string) (*Run, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	if l := s.activeRun(p.ID); l != nil {
		if r := l.snapshot(); r.ID == runID {
			return r, nil
		}
	}
	return getRun(ctx, s.db, p.ID, runID)
}

// List returns the project's runs without steps, newest first.
func (s *Service) List(ctx context.Context, actor *auth.User, projectID string) ([]*Run, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	runs, err := listRuns(ctx, s.db, p.ID, 50)
	if err != nil {
		return nil, err
	}
	l := s.activeRun(p.ID)
	for i, r := range runs {
		if l != nil {
			if h := l.header(); h.ID == r.ID {
				runs[i] = h
			}
		}
		runs[i].Steps = nil
	}
	return runs, nil
}

// Usage is actor's AI usage per day and kind.
func (s *Service) Usage(ctx context.Context, actor *auth.User) ([]Usage, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	return usageOf(ctx, s.db, actor.ID)
}

// release forgets l as its project's active run (a newer one may have
// taken its place already).
func (s *Service) release(l *live) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := l.header().ProjectID; s.active[id] == l {
		delete(s.active, id)
	}
}

func (s *Service) activeRun(projectID string) *live {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[projectID]
}

// Subscribe follows the project's agent: the latest run with its steps
// (nil when there is none), then every event. The channel closes when the
// subscriber falls behind; it subscribes again for a fresh snapshot.
func (s *Service) Subscribe(ctx context.Context, actor *auth.User, projectID string) (*Run, <-chan Event, func(), error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, nil, nil, err
	}
	ch := make(chan Event, 1024)
	s.mu.Lock()
	if s.subs[p.ID] == nil {
		s.subs[p.ID] = map[chan Event]struct{}{}
	}
	s.subs[p.ID][ch] = struct{}{}
	l := s.active[p.ID]
	s.mu.Unlock()
	cancel := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[p.ID][ch]; ok {
			delete(s.subs[p.ID], ch)
			close(ch)
			if len(s.subs[p.ID]) == 0 {
				delete(s.subs, p.ID)
			}
		}
	}
	var latest *Run
	if l != nil {
		latest = l.snapshot()
	} else {
		runs, err := listRuns(ctx, s.db, p.ID, 1)
		if err != nil {
			cancel()
			return nil, nil, nil, err
		}
		if len(runs) > 0 {
			latest = runs[0]
		}
	}
	return latest, ch, cancel, nil
}

func (s *Service) publish(projectID string, e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs[projectID] {
		select {
		case ch <- e:
		default: // too far behind: it starts over from a snapshot
			delete(s.subs[projectID], ch)
			close(ch)
		}
	}
}

func (s *Service) save(l *live) {
	r := l.snapshot()
	if err := saveRun(context.WithoutCancel(s.ctx), s.db, r); err != nil {
		s.log.Error("save agent run", "run_id", r.ID, "err", err)
	}
}

func clipPrompt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
