package agent

import (
	"encoding/json"
	"sync"

	"ecode/internal/project"
)

// Status of an agent run.
const (
	StatusRunning    = "running"
	StatusDone       = "done"
	StatusStopped    = "stopped"
	StatusFailed     = "failed"
	StatusNeedsInput = "needs_input" // the loop guard or a budget stopped it to ask the person
)

// Run is one prompt and everything the agent did for it.
type Run struct {
	ID          string       `json:"id" db:"id"`
	ProjectID   string       `json:"projectId" db:"project_id"`
	UserID      string       `json:"-" db:"user_id"`
	Prompt      string       `json:"prompt" db:"prompt"`
	Status      string       `json:"status" db:"status"`
	Summary     string       `json:"summary" db:"summary"`
	Features    []string     `json:"features" db:"-"`
	Error       *RunError    `json:"error" db:"-"`
	NeedsInput  string       `json:"needsInput" db:"needs_input"`
	Steps       []Step       `json:"steps,omitempty" db:"-"`
	TokensIn    int64        `json:"tokensIn" db:"tokens_in"`
	TokensOut   int64        `json:"tokensOut" db:"tokens_out"`
	NoProgress  bool         `json:"noProgress" db:"no_progress"`
	Checkpoints []Checkpoint `json:"checkpoints" db:"-"`
	Model       string       `json:"model" db:"model"`
	CreatedAt   int64        `json:"createdAt" db:"created_at"`
	FinishedAt  *int64       `json:"finishedAt" db:"finished_at"`
}

// RunError says why a run failed and whether trying again may help.
type RunError struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

// Checkpoint is a point the person can roll the project back to; step 0
// is the project before the agent started.
type Checkpoint struct {
	Hash    string `json:"hash"`
	Message string `json:"message"`
	Step    int    `json:"step"`
}

// Step is one thing the agent did: said something, or called a tool.
type Step struct {
	N          int                  `json:"n"`
	Kind       string               `json:"kind"` // text or tool
	Text       string               `json:"text,omitempty"`
	Tool       string               `json:"tool,omitempty"`
	Input      map[string]any       `json:"input,omitempty"`
	Status     string               `json:"status,omitempty"` // running, ok, error
	Output     string               `json:"output,omitempty"`
	Files      []project.FileChange `json:"files,omitempty"`
	Checkpoint string               `json:"checkpoint,omitempty"`
	StartedAt  int64                `json:"startedAt"`
	DurationMs int64                `json:"durationMs,omitempty"`
}

// Event is one change of a run, as the workspace socket carries it.
type Event struct {
	Kind  string `json:"kind"` // run, step or text
	Run   *Run   `json:"run,omitempty"`
	RunID string `json:"runId,omitempty"`
	Step  *Step  `json:"step,omitempty"`
	N     int    `json:"n,omitempty"`
	Delta string `json:"delta,omitempty"`
}

// live is a run in progress: the one copy its loop changes, under mu.
type live struct {
	mu      sync.Mutex
	run     Run
	checked bool // check_app saw the app answer
	guarded bool // the loop guard stopped the run
	turns   int  // model calls so far, each metered under its own key
	cancel  func()
	done    chan struct{}
}

// header is the run without its steps, for run events and lists.
func (l *live) header() *Run {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.run
	r.Steps = nil
	return cloneRun(&r)
}

func (l *live) snapshot() *Run {
	l.mu.Lock()
	defer l.mu.Unlock()
	return cloneRun(&l.run)
}

// cloneRun deep-copies through JSON, so readers never share the loop's slices.
func cloneRun(r *Run) *Run {
	b, _ := json.Marshal(r)
	var out Run
	_ = json.Unmarshal(b, &out)
	out.UserID = r.UserID
	return &out
}
