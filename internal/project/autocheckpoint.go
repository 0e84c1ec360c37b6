package project

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"ecode/internal/errs"
	"ecode/internal/events"
)

// AutoCheckpoints tunes the checkpoints the platform takes by itself once
// a project's edits settle, so work is never far from a way back.
type AutoCheckpoints struct {
	// Quiet is how long a project's files must go unchanged after a change
	// before it is checkpointed; zero turns automatic checkpoints off.
	Quiet time.Duration
	// Gap is the least time between two automatic checkpoints of a project.
	Gap time.Duration
	// Keep is how many automatic checkpoints History lists besides the
	// current one; older ones stay in the history, unlisted. Zero: 20.
	Keep int
}

func (a AutoCheckpoints) keep() int {
	if a.Keep <= 0 {
		return 20
	}
	return a.Keep
}

// autoAuthor signs automatic checkpoints: edits reach the tree from
// editors, runs and the agent alike, so no one person made them.
const autoAuthor, autoEmail = "E-Code", "ecode@localhost"

// autoQueue is what the automatic checkpointer knows of each project:
// when its files last changed, unless checkpointed since, and when it last
// took a checkpoint of it.
type autoQueue struct {
	mu      sync.Mutex
	changed map[string]time.Time
	took    map[string]time.Time
	closed  bool
	wake    chan struct{}
}

func (q *autoQueue) edited(id string, now time.Time) {
	q.mu.Lock()
	if !q.closed {
		q.changed[id] = now
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *autoQueue) forget(id string) {
	q.mu.Lock()
	delete(q.changed, id)
	delete(q.took, id)
	q.mu.Unlock()
}

// due takes the projects to checkpoint at now out of the queue, and says
// when the next one will be due (zero: none is waiting). A project is due
// once it has been quiet for a.Quiet and its last automatic checkpoint is
// a.Gap old.
func (q *autoQueue) due(now time.Time, a AutoCheckpoints) (ids []string, next time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for id, at := range q.changed {
		when := at.Add(a.Quiet)
		if took, ok := q.took[id]; ok && took.Add(a.Gap).After(when) {
			when = took.Add(a.Gap)
		}
		if !when.After(now) {
			ids = append(ids, id)
			delete(q.changed, id)
			continue
		}
		if next.IsZero() || when.Before(next) {
			next = when
		}
	}
	for id, took := range q.took {
		if _, waiting := q.changed[id]; !waiting && now.Sub(took) >= a.Gap {
			delete(q.took, id) // nothing left for the gap to hold back
		}
	}
	return ids, next
}

func (q *autoQueue) checkpointed(id string, at time.Time) {
	q.mu.Lock()
	q.took[id] = at
	q.mu.Unlock()
}

// Run takes automatic checkpoints, as Options.Auto says, until ctx ends. It
// follows FilesChanged on the bus; call it once.
func (s *Service) Run(ctx context.Context) {
	if s.auto.Quiet <= 0 {
		return
	}
	q := &autoQueue{changed: map[string]time.Time{}, took: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	events.Subscribe(s.bus, func(_ context.Context, e FilesChanged) { q.edited(e.ProjectID, time.Now()) })
	events.Subscribe(s.bus, func(_ context.Context, e Deleted) { q.forget(e.ProjectID) })
	defer func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
	}()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		ids, next := q.due(time.Now(), s.auto)
		for _, id := range ids {
			made, err := s.AutoCheckpoint(ctx, id)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				slog.WarnContext(ctx, "automatic checkpoint", "project_id", id, "err", err)
			}
			if made {
				q.checkpointed(id, time.Now())
			}
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(time.Until(next), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-timer.C:
		}
	}
}

// AutoCheckpoint checkpoints project id, labelled with what changed, and
// reports whether anything had changed since its last checkpoint.
func (s *Service) AutoCheckpoint(ctx context.Context, id string) (bool, error) {
	if _, err := projectByID(ctx, s.db, id); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return false, nil // deleted while its edits settled
		}
		return false, err
	}
	defer s.history.lock(id)()
	cp, made, err := s.commitAll(id, autoAuthor, autoEmail, func(changed []string) string {
		return autoMessage(autoLabel(changed))
	}, false)
	if err != nil {
		return false, fmt.Errorf("checkpoint %s: %w", id, err)
	}
	if made {
		slog.DebugContext(ctx, "automatic checkpoint", "project_id", id, "checkpoint", cp.Short)
	}
	return made, nil
}

// autoLabel names an automatic checkpoint after the files it changed:
// "Auto: 3 files changed: a.js, b.js, c.css".
func autoLabel(changed []string) string {
	const named = 3
	noun := "files"
	if len(changed) == 1 {
		noun = "file"
	}
	label := fmt.Sprintf("Auto: %d %s changed", len(changed), noun)
	if len(changed) == 0 {
		return label
	}
	names := changed[:min(len(changed), named)]
	label += ": " + strings.Join(names, ", ")
	if more := len(changed) - len(names); more > 0 {
		label += fmt.Sprintf(" and %d more", more)
	}
	return label
}
