package run

import (
	"context"
	"sync"
	"time"
)

// Run statuses.
const (
	Starting = "starting"
	Building = "building" // waiting on a compile: the shared Go cache, or the run's own go build
	Running  = "running"
	Exited   = "exited"
	Crashed  = "crashed"
	Stopped  = "stopped"
	Failed   = "failed"
)

// Run is one press of Run: install and build when needed, then the run
// command, until it ends or is stopped.
type Run struct {
	ID        string
	ProjectID string
	Command   string
	StartedAt time.Time

	mu       sync.Mutex
	status   string
	exitCode *int
	endedAt  time.Time
	port     int
	preview  string
	err      string
	stopped  bool
	diskFull string // why the sandbox was stopped for its size, if it was

	out    ring // this run's own output, for GET .../output
	cancel context.CancelFunc
	done   chan struct{}
	// outDone: finish has written the run's last output; its end is told
	// next (under mu).
	outDone bool
}

// View is a run as the API shows it.
type View struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	Command    string  `json:"command"`
	ExitCode   *int    `json:"exitCode"`
	StartedAt  int64   `json:"startedAt"`
	EndedAt    *int64  `json:"endedAt"`
	DurationMs *int64  `json:"durationMs"`
	Port       *int    `json:"port"`
	PreviewURL *string `json:"previewUrl"`
	Error      string  `json:"error,omitempty"`
}

func (r *Run) view() View {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := View{ID: r.ID, Status: r.status, Command: r.Command, ExitCode: r.exitCode, StartedAt: r.StartedAt.UnixMilli(), Error: r.err}
	if !r.endedAt.IsZero() {
		end, dur := r.endedAt.UnixMilli(), r.endedAt.Sub(r.StartedAt).Milliseconds()
		v.EndedAt, v.DurationMs = &end, &dur
	}
	if r.port > 0 {
		port, url := r.port, r.preview
		v.Port, v.PreviewURL = &port, &url
	}
	return v
}

func (r *Run) set(f func(r *Run)) {
	r.mu.Lock()
	f(r)
	r.mu.Unlock()
}

// over reports whether the run's output has ended: all of it is written
// and its end is told, or about to be. Its sandbox may still be going
// (active), which a stream of its output must not wait for.
func (r *Run) over() bool {
	if !r.active() {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.outDone
}

func (r *Run) active() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}
