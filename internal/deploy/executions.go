package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/run"
	"ecode/internal/runtime"
	"ecode/internal/safefs"
	"ecode/internal/store"
)

// A scheduled release holds the whole built tree under app/ and, in
// job.json, what to run and when: what it was deployed with, not what
// ecode.toml says now. Each run copies app/ into a folder of its own, so
// the release is never written to and no run sees another's files.
const (
	appDir  = "app"
	jobFile = "job.json"
)

// Execution statuses.
const (
	ExecRunning  = "running"
	ExecOK       = "ok"
	ExecFailed   = "failed"
	ExecTimedOut = "timed_out"
	ExecSkipped  = "skipped"
)

const (
	defaultExecTimeout = 10 * time.Minute
	maxExecTimeout     = 3600 // seconds
	// keepExecutions is how many runs of a project are kept, newest first.
	keepExecutions = 100
)

// runSpec is what a scheduled or app release runs, written when it is
// made: what it was deployed with, not what ecode.toml says now.
type runSpec struct {
	Run      string `json:"run"`
	Schedule string `json:"schedule,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
	Timeout  int    `json:"timeout,omitempty"` // seconds; 0: defaultExecTimeout
	// Apps: autoscale or vm, and how they scale.
	Target       string `json:"target,omitempty"`
	MinInstances int    `json:"minInstances,omitempty"`
	MaxInstances int    `json:"maxInstances,omitempty"`
	Concurrency  int    `json:"concurrency,omitempty"`
	HealthPath   string `json:"healthPath,omitempty"`
	GPU          string `json:"gpu,omitempty"` // each instance's GPU: a gpu.ParseWant key
}

func (j runSpec) timeout() time.Duration {
	if j.Timeout > 0 {
		return time.Duration(j.Timeout) * time.Second
	}
	return defaultExecTimeout
}

// Execution is one run of a scheduled deployment as the API shows it.
type Execution struct {
	ID         string  `json:"id"`
	ReleaseID  *string `json:"releaseId"`
	Source     string  `json:"source"` // schedule or manual
	Status     string  `json:"status"`
	ExitCode   *int    `json:"exitCode"`
	Error      *string `json:"error"`
	StartedAt  int64   `json:"startedAt"`
	FinishedAt *int64  `json:"finishedAt"`
	DurationMs *int64  `json:"durationMs"`
}

// Schedule is a scheduled deployment's live schedule.
type Schedule struct {
	Cron     string `json:"cron"`
	TimeZone string `json:"timeZone"`
	Sentence string `json:"sentence"`
	Command  string `json:"command"`
	Timeout  int    `json:"timeout"` // seconds
	NextRun  int64  `json:"nextRun"` // unix ms
}

type execRow struct {
	ID         string  `db:"id"`
	ProjectID  string  `db:"project_id"`
	ReleaseID  *string `db:"release_id"`
	Source     string  `db:"source"`
	Status     string  `db:"status"`
	ExitCode   *int    `db:"exit_code"`
	Error      string  `db:"error"`
	StartedAt  int64   `db:"started_at"`
	FinishedAt *int64  `db:"finished_at"`
}

func (r execRow) view() Execution {
	v := Execution{ID: r.ID, ReleaseID: r.ReleaseID, Source: r.Source, Status: r.Status, ExitCode: r.ExitCode,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
	if r.Error != "" {
		v.Error = &r.Error
	}
	if r.FinishedAt != nil {
		ms := *r.FinishedAt - r.StartedAt
		v.DurationMs = &ms
	}
	return v
}

const execCols = `id, project_id, release_id, source, status, exit_code, error, started_at, finished_at`

// cronJob is the ticking of a project's live scheduled release, by the
// platform or by the driver (driven).
type cronJob struct {
	releaseID string
	stop      context.CancelFunc
	driven    bool
}

// publishApp copies the whole build folder (less .git) into a new release
// folder at dst and writes down its job.
func publishApp(buildDir, dst string, j runSpec) (int, error) {
	src, err := safefs.OpenDir(buildDir)
	if err != nil {
		return 0, fmt.Errorf("open build folder: %w", err)
	}
	defer src.Close()
	return place(dst, func(tmp string) (int, error) {
		if err := os.MkdirAll(filepath.Join(tmp, appDir), 0o755); err != nil {
			return 0, fmt.Errorf("create release folder: %w", err)
		}
		n, err := copyTree(src, filepath.Join(tmp, appDir), func(e safefs.Entry) bool { return e.Path == ".git" })
		if err != nil {
			return 0, err
		}
		raw, err := json.Marshal(j)
		if err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(tmp, jobFile), raw, 0o444); err != nil {
			return 0, fmt.Errorf("write job: %w", err)
		}
		return n, nil
	})
}

// copyTree copies src into the existing folder dst, links as links (never
// followed), and counts the files.
func copyTree(src *safefs.Dir, dst string, skip func(safefs.Entry) bool) (int, error) {
	root, err := os.OpenRoot(dst)
	if err != nil {
		return 0, err
	}
	defer root.Close()
	n := 0
	err = safefs.Copy(src, root, safefs.CopyOptions{MaxBytes: maxReleaseBytes, Links: true, Skip: func(e safefs.Entry) bool {
		if skip != nil && skip(e) {
			return true
		}
		if e.Type.IsRegular() {
			n++
		}
		return false
	}})
	if errors.Is(err, safefs.ErrTooLarge) {
		return 0, fmt.Errorf("the build holds more than %d GiB", maxReleaseBytes>>30)
	}
	if err != nil {
		return 0, fmt.Errorf("copy the build: %w", err)
	}
	return n, nil
}

func readJob(releaseDir string) (runSpec, error) {
	var j runSpec
	raw, err := os.ReadFile(filepath.Join(releaseDir, jobFile))
	if err != nil {
		return j, fmt.Errorf("read job: %w", err)
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return j, fmt.Errorf("read job: %w", err)
	}
	return j, nil
}

// reschedule makes the project's ticking follow its live release: started
// for a live scheduled release, replaced when another went live, stopped
// when none is. A run in progress ends as it would have, except where the
// driver keeps the schedule: ending it there ends its run.
func (s *Service) reschedule(ctx context.Context, projectID string) {
	live := ""
	if d, err := getDeployment(ctx, s.db, projectID); err == nil && d.Live != nil && d.Target == Scheduled {
		live = *d.Live
	} else if err != nil && !store.NoRows(err) {
		s.log.Error("read deployment for its schedule", "project_id", projectID, "err", err)
		return
	}
	s.mu.Lock()
	cur := s.crons[projectID]
	if cur != nil && cur.releaseID == live {
		s.mu.Unlock()
		return
	}
	delete(s.crons, projectID)
	s.mu.Unlock()
	if cur != nil {
		cur.stop()
	}
	if live == "" || s.ctx.Err() != nil {
		if cur != nil && cur.driven {
			s.unschedule(ctx, projectID)
		}
		return
	}
	rel := s.releaseDir(projectID, live)
	j, err := readJob(rel)
	if err != nil {
		s.log.Error("scheduled release", "project_id", projectID, "release_id", live, "err", err)
		return
	}
	sched, err := parseSchedule(j.Schedule, j.TimeZone, s.floor())
	if err != nil {
		s.log.Error("scheduled release", "project_id", projectID, "release_id", live, "err", err)
		return
	}
	if driven, err := s.driveSchedule(ctx, projectID, live, j, sched); err != nil {
		s.log.Error("schedule a release", "project_id", projectID, "release_id", live, "driver", s.driver.Name(), "err", err)
	} else if driven {
		s.mu.Lock()
		s.crons[projectID] = &cronJob{releaseID: live, stop: func() {}, driven: true}
		s.mu.Unlock()
		return
	} else if cur != nil && cur.driven {
		s.unschedule(ctx, projectID)
	}
	cctx, stop := context.WithCancel(s.ctx)
	s.mu.Lock()
	s.crons[projectID] = &cronJob{releaseID: live, stop: stop}
	s.mu.Unlock()
	s.wg.Add(1)
	go s.tick(cctx, projectID, live, sched)
}

// driveSchedule hands the release's schedule to a driver that keeps
// schedules, when it can keep this one.
func (s *Service) driveSchedule(ctx context.Context, projectID, releaseID string, j runSpec, sched *schedule) (bool, error) {
	cron, ok := s.driver.(Cron)
	if !ok {
		return false, nil
	}
	sb, err := s.sandboxOf(ctx, projectID)
	if err != nil {
		return false, err
	}
	return cron.Schedule(ctx, CronSpec{ProjectID: projectID, ReleaseID: releaseID, Cron: sched.Cron, TimeZone: sched.Loc.String(),
		Dir: filepath.Join(s.releaseDir(projectID, releaseID), appDir), Image: s.releaseImage(ctx, projectID, releaseID),
		Command: j.Run, Timeout: j.timeout(),
		Env: sb.secrets, Internet: sb.internet, Limits: sb.limits})
}

// unschedule takes the project's schedule from the driver.
func (s *Service) unschedule(ctx context.Context, projectID string) {
	if err := s.driver.(Cron).Unschedule(context.WithoutCancel(ctx), projectID); err != nil {
		s.log.Error("end a schedule", "project_id", projectID, "driver", s.driver.Name(), "err", err)
	}
}

// stopCron stops the project's ticking, if any.
func (s *Service) stopCron(projectID string) {
	s.mu.Lock()
	cur := s.crons[projectID]
	delete(s.crons, projectID)
	s.mu.Unlock()
	if cur == nil {
		return
	}
	cur.stop()
	if cur.driven {
		s.unschedule(s.ctx, projectID)
	}
}

// driven reports whether the driver keeps the project's schedule.
func (s *Service) driven(projectID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.crons[projectID]
	return cur != nil && cur.driven
}

// takeRun records a run the driver's schedule started and follows it,
// on the server that holds the project; on the others, and when this
// server has it on record already, it does nothing.
func (s *Service) takeRun(r CronRun) {
	ctx := s.ctx
	if ctx.Err() != nil || !s.holds(ctx, r.ProjectID) {
		return
	}
	// A schedule written before the deployment changed while no server
	// was up to end it: nothing of it runs.
	if d, err := getDeployment(ctx, s.db, r.ProjectID); store.NoRows(err) || err == nil && (d.Live == nil || *d.Live != r.ReleaseID || d.Target != Scheduled) {
		r.Skip(ctx)
		if !s.driven(r.ProjectID) {
			s.unschedule(ctx, r.ProjectID)
		}
		return
	} else if err != nil {
		s.log.Error("read deployment for a scheduled run", "project_id", r.ProjectID, "err", err)
		return
	}
	id := store.IDAt(r.StartedAt, r.Name)
	var n int
	if err := s.db.Get(ctx, &n, `SELECT COUNT(*) FROM executions WHERE id = ?`, id); err != nil || n > 0 {
		return
	}
	source := "schedule"
	if r.Manual {
		source = "manual"
	}
	if _, err := s.execute(ctx, r.ProjectID, r.ReleaseID, source, runner{id: id, follow: r.Follow, skip: r.Skip}); err != nil {
		s.log.Error("scheduled run", "project_id", r.ProjectID, "release_id", r.ReleaseID, "run", r.Name, "err", err)
	}
}

// tick runs the release at each time of its schedule until ctx ends.
func (s *Service) tick(ctx context.Context, projectID, releaseID string, sched *schedule) {
	defer s.wg.Done()
	for {
		t := time.NewTimer(time.Until(sched.Next(time.Now())))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !s.holds(ctx, projectID) {
			continue // another server of the cluster runs it
		}
		if _, err := s.execute(ctx, projectID, releaseID, "schedule", runner{}); err != nil {
			s.log.Error("scheduled run", "project_id", projectID, "release_id", releaseID, "err", err)
		}
	}
}

// runner is how one run goes: by default the driver's Exec over a copy of
// the release, in a fresh sandbox; or a run of the driver's schedule.
type runner struct {
	id     string // the execution's, when the run has one already
	follow func(ctx context.Context, env []string, out io.Writer) (runtime.Exit, error)
	skip   func(ctx context.Context) // drops a run of the driver's that will not be
}

// execute starts a run of release releaseID in the background. Runs of a
// project never overlap: a tick while one runs is recorded as skipped, and
// a Run now is refused.
func (s *Service) execute(ctx context.Context, projectID, releaseID, source string, r runner) (*Execution, error) {
	skip := func() {
		if r.skip != nil {
			r.skip(ctx)
		}
	}
	if err := s.bill.errPaused(projectID); err != nil {
		skip()
		return nil, err
	}
	now := store.Now()
	row := execRow{ID: r.id, ProjectID: projectID, ReleaseID: &releaseID, Source: source, Status: ExecRunning, StartedAt: now}
	if row.ID == "" {
		row.ID = store.NewID()
	}
	log := newLog(maxExecLog)
	s.mu.Lock()
	cur, busy := s.execLogs[projectID]
	busy = busy && !cur.ending
	if busy && source != "schedule" {
		s.mu.Unlock()
		return nil, errs.Conflict("execution_running", "A run is in progress; wait for it to end.")
	}
	if !busy {
		s.execLogs[projectID] = execLog{id: row.ID, log: log}
	}
	s.mu.Unlock()
	if busy {
		row.Status, row.Error, row.FinishedAt = ExecSkipped, "Skipped: the previous run was still going.", &now
		skip()
	}
	err := insertExecution(ctx, s.db, row)
	switch {
	case busy:
	case err != nil:
		s.mu.Lock()
		delete(s.execLogs, projectID)
		s.mu.Unlock()
	default:
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.runExecution(row, log, r)
		}()
	}
	if err != nil {
		return nil, err
	}
	v := row.view()
	return &v, nil
}

// execLog is the run of a project in progress.
type execLog struct {
	id  string
	log *buildLog
	// ending: its end is being recorded; the next run may start.
	ending bool
}

// runExecution runs row's release in a fresh sandbox over a copy of its
// own, with the project's secrets and the release's timeout, and records
// how it ended.
func (s *Service) runExecution(row execRow, log *buildLog, r runner) {
	ctx := s.ctx
	dbctx := context.WithoutCancel(ctx)
	status, msg, code := ExecFailed, "", (*int)(nil)
	exit, timeout, err := s.runRelease(ctx, row, log, r)
	switch {
	case errors.Is(err, ErrMissed):
		status, msg = ExecSkipped, "Skipped: "+err.Error()+"."
	case errors.Is(err, context.DeadlineExceeded):
		status, msg = ExecTimedOut, fmt.Sprintf("Stopped after %s, its timeout.", timeout)
	case ctx.Err() != nil:
		msg = "Stopped: the server was stopping."
	case err != nil:
		msg = "The run did not start: " + err.Error() + "."
		if e, ok := errs.As(err); ok {
			msg = e.Message
		}
	case exit.Signal != "":
		msg = "Killed (" + exit.Signal + ")."
	case exit.Code != 0:
		code = &exit.Code
		msg = fmt.Sprintf("Exited with code %d.", exit.Code)
	default:
		code = &exit.Code
		status = ExecOK
	}
	if msg != "" {
		fmt.Fprintf(log, "\n%s\n", msg)
		s.log.Info("scheduled run failed", "project_id", row.ProjectID, "execution_id", row.ID, "status", status, "err", err)
	}
	s.mu.Lock()
	if e := s.execLogs[row.ProjectID]; e.id == row.ID {
		e.ending = true
		s.execLogs[row.ProjectID] = e
	}
	s.mu.Unlock()
	if err := finishExecution(dbctx, s.db, row.ID, status, code, msg, log.String(), store.Now()); err != nil {
		s.log.Error("record scheduled run", "project_id", row.ProjectID, "execution_id", row.ID, "err", err)
	}
	s.mu.Lock()
	if s.execLogs[row.ProjectID].id == row.ID {
		delete(s.execLogs, row.ProjectID)
	}
	s.mu.Unlock()
	if err := pruneExecutions(dbctx, s.db, row.ProjectID, keepExecutions); err != nil {
		s.log.Warn("prune scheduled runs", "project_id", row.ProjectID, "err", err)
	}
	if status != ExecOK && status != ExecSkipped && ctx.Err() == nil { // a stopping server is no failure of the job's
		s.runFailed(row, status, code, msg)
	}
}

// runRelease does the work of runExecution. A run past its timeout
// answers context.DeadlineExceeded.
func (s *Service) runRelease(ctx context.Context, row execRow, log *buildLog, r runner) (runtime.Exit, time.Duration, error) {
	rel := s.releaseDir(row.ProjectID, *row.ReleaseID)
	j, err := readJob(rel)
	if err != nil {
		return runtime.Exit{}, 0, err
	}
	sb, err := s.sandboxOf(ctx, row.ProjectID)
	if err != nil {
		return runtime.Exit{}, 0, err
	}
	out := run.Masked(sb.secrets, log)
	defer out.Flush()
	if r.follow != nil { // the driver's: its timeout is the driver's too
		fmt.Fprintf(out, "$ %s\n", j.Run)
		exit, err := r.follow(ctx, sb.secrets, out)
		return exit, j.timeout(), err
	}
	root := filepath.Join(s.opts.DataDir, "executions")
	if err := os.MkdirAll(root, 0o711); err != nil {
		return runtime.Exit{}, 0, err
	}
	dir := filepath.Join(root, row.ID)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return runtime.Exit{}, 0, fmt.Errorf("run folder: %w", err)
	}
	defer os.RemoveAll(dir)
	app, err := safefs.OpenDir(filepath.Join(rel, appDir))
	if err != nil {
		return runtime.Exit{}, 0, fmt.Errorf("open release: %w", err)
	}
	_, err = copyTree(app, dir, nil)
	app.Close()
	if err != nil {
		return runtime.Exit{}, 0, err
	}
	fmt.Fprintf(out, "$ %s\n", j.Run)
	tctx, cancel := context.WithTimeout(ctx, j.timeout())
	defer cancel()
	exit, err := s.driver.Exec(tctx, ExecSpec{ProjectID: row.ProjectID, Dir: dir, Command: j.Run, Env: sb.secrets, Internet: sb.internet,
		Limits: sb.limits}, out)
	if err == nil && ctx.Err() == nil {
		err = tctx.Err()
	}
	return exit, j.timeout(), err
}

// RunNow starts a run of the project's live scheduled release.
func (s *Service) RunNow(ctx context.Context, actor *auth.User, projectID string) (*Execution, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	d, err := getDeployment(ctx, s.db, p.ID)
	if store.NoRows(err) || err == nil && (d.Live == nil || d.Target != Scheduled) {
		return nil, errs.Conflict("not_scheduled", "The live deployment is not a scheduled one; deploy it as scheduled first.")
	}
	if err != nil {
		return nil, fmt.Errorf("read deployment: %w", err)
	}
	var r runner
	if s.driven(p.ID) {
		r.follow = func(ctx context.Context, env []string, out io.Writer) (runtime.Exit, error) {
			run, err := s.driver.(Cron).RunNow(ctx, p.ID, env)
			if err != nil {
				return runtime.Exit{}, err
			}
			return run.Follow(ctx, env, out)
		}
	}
	return s.execute(ctx, p.ID, *d.Live, "manual", r)
}

// Executions lists the project's runs, newest first, and the live
// schedule (nil when the live deployment is not scheduled).
func (s *Service) Executions(ctx context.Context, actor *auth.User, projectID string) ([]Execution, *Schedule, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, nil, err
	}
	var rows []execRow
	if err := s.db.Select(ctx, &rows, `SELECT `+execCols+` FROM executions WHERE project_id = ? ORDER BY started_at DESC, id DESC`, p.ID); err != nil {
		return nil, nil, fmt.Errorf("list runs: %w", err)
	}
	out := make([]Execution, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.view())
	}
	var sched *Schedule
	if d, err := getDeployment(ctx, s.db, p.ID); err == nil && d.Live != nil && d.Target == Scheduled {
		if j, err := readJob(s.releaseDir(p.ID, *d.Live)); err == nil {
			if parsed, err := parseSchedule(j.Schedule, j.TimeZone, s.floor()); err == nil {
				sched = &Schedule{Cron: parsed.Cron, TimeZone: parsed.Loc.String(), Sentence: parsed.Sentence, Command: j.Run,
					Timeout: int(j.timeout() / time.Second), NextRun: parsed.Next(time.Now()).UnixMilli()}
			}
		}
	}
	return out, sched, nil
}

// ExecutionLog returns one run and its output so far.
func (s *Service) ExecutionLog(ctx context.Context, actor *auth.User, projectID, id string) (*Execution, string, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, "", err
	}
	var r struct {
		execRow
		Log string `db:"log"`
	}
	err = s.db.Get(ctx, &r, `SELECT `+execCols+`, log FROM executions WHERE project_id = ? AND id = ?`, p.ID, id)
	if store.NoRows(err) {
		return nil, "", errs.NotFound("execution_not_found", "There is no such run of this project.")
	}
	if err != nil {
		return nil, "", fmt.Errorf("read run: %w", err)
	}
	if r.Status == ExecRunning {
		s.mu.Lock()
		if e, ok := s.execLogs[p.ID]; ok && e.id == id {
			r.Log = e.log.String()
		}
		s.mu.Unlock()
	}
	v := r.view()
	return &v, r.Log, nil
}

func insertExecution(ctx context.Context, q store.Q, r execRow) error {
	_, err := q.Exec(ctx, `INSERT INTO executions (id, project_id, release_id, source, status, error, started_at, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.ProjectID, r.ReleaseID, r.Source, r.Status, r.Error, r.StartedAt, r.FinishedAt)
	if err != nil {
		return fmt.Errorf("insert run: %w", err)
	}
	return nil
}

func finishExecution(ctx context.Context, q store.Q, id, status string, code *int, msg, log string, at int64) error {
	_, err := q.Exec(ctx, `UPDATE executions SET status = ?, exit_code = ?, error = ?, log = ?, finished_at = ? WHERE id = ?`,
		status, code, msg, log, at, id)
	return err
}

// pruneExecutions keeps the project's newest keep runs.
func pruneExecutions(ctx context.Context, q store.Q, projectID string, keep int) error {
	_, err := q.Exec(ctx, `DELETE FROM executions WHERE project_id = ? AND id NOT IN
		(SELECT id FROM executions WHERE project_id = ? ORDER BY started_at DESC, id DESC LIMIT ?)`, projectID, projectID, keep)
	return err
}

// interruptExecutions fails the runs a stopped server left running.
func interruptExecutions(ctx context.Context, q store.Q, projectID string, at int64) (int64, error) {
	return q.Exec(ctx, `UPDATE executions SET status = ?, error = ?, finished_at = ? WHERE status = ? AND (? = '' OR project_id = ?)`,
		ExecFailed, "Interrupted by a restart of the server.", at, ExecRunning, projectID, projectID)
}

// startSchedules starts the ticking of every live scheduled deployment.
func (s *Service) startSchedules(ctx context.Context) error {
	var ids []string
	if err := s.db.Select(ctx, &ids, `SELECT project_id FROM deployments WHERE target = ? AND live_release_id IS NOT NULL`, Scheduled); err != nil {
		return fmt.Errorf("list scheduled deployments: %w", err)
	}
	for _, id := range ids {
		s.reschedule(ctx, id)
	}
	return nil
}
