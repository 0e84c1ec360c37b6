package course

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/grade"
	"ecode/internal/safefs"
	"ecode/internal/store"
)

// Submission statuses.
const (
	Queued  = "queued"
	Grading = "grading"
	Done    = "graded"
	Failed  = "failed"
)

const (
	day         = 24 * time.Hour
	maxFeedback = 20_000
	maxAttempts = 3
)

// Submission is one snapshot a student handed in and how it was graded.
type Submission struct {
	ID             string        `json:"id" db:"id"`
	AssignmentID   string        `json:"assignmentId" db:"assignment_id"`
	CourseID       string        `json:"courseId" db:"course_id"`
	UserID         string        `json:"userId" db:"user_id"`
	Username       string        `json:"username" db:"username"`
	Number         int           `json:"number" db:"number"`
	Status         string        `json:"status" db:"status"`
	SubmittedAt    int64         `json:"submittedAt" db:"submitted_at"`
	GradedAt       *int64        `json:"gradedAt" db:"graded_at"`
	Late           bool          `json:"late" db:"late"`
	DaysLate       int           `json:"daysLate" db:"days_late"`
	PenaltyPercent float64       `json:"penaltyPercent" db:"penalty_percent"`
	AutoScore      *float64      `json:"autoScore" db:"auto_score"`
	AutoMax        float64       `json:"autoMax" db:"auto_max"`
	Rubric         []RubricScore `json:"rubric" db:"-"`
	Feedback       string        `json:"feedback" db:"feedback"`
	Score          *float64      `json:"score" db:"score"`
	MaxScore       float64       `json:"maxScore" db:"max_score"`
	Result         *grade.Result `json:"result" db:"-"`
	Reason         string        `json:"reason" db:"reason"`
	LMS            *LMSStatus    `json:"lms" db:"-"`

	RubricText string `json:"-" db:"rubric"`
	ResultText string `json:"-" db:"result"`
	Gradings   int    `json:"-" db:"gradings"`
}

// RubricScore is a hand-given grade on one rubric item.
type RubricScore struct {
	ID      string  `json:"id"`
	Points  float64 `json:"points"`
	Comment string  `json:"comment"`
}

const submissionCols = `SELECT s.id, s.assignment_id, s.course_id, s.user_id, u.username, s.number, s.status, s.submitted_at, s.graded_at,
	s.late, s.days_late, s.penalty_percent, s.auto_score, s.auto_max, s.feedback, s.score, s.max_score, s.reason, s.rubric, s.result, s.gradings
	FROM submissions s JOIN users u ON u.id = s.user_id`

func (sub *Submission) decode() error {
	sub.Rubric = []RubricScore{}
	if err := json.Unmarshal([]byte(sub.RubricText), &sub.Rubric); err != nil {
		return fmt.Errorf("read submission %s: %w", sub.ID, err)
	}
	if sub.ResultText != "" {
		sub.Result = &grade.Result{}
		if err := json.Unmarshal([]byte(sub.ResultText), sub.Result); err != nil {
			return fmt.Errorf("read submission %s: %w", sub.ID, err)
		}
	}
	return nil
}

func (s *Service) submissions(ctx context.Context, where string, args ...any) ([]*Submission, error) {
	return submissionsIn(ctx, s.db, where, args...)
}

func submissionsIn(ctx context.Context, q store.Q, where string, args ...any) ([]*Submission, error) {
	out := []*Submission{}
	if err := q.Select(ctx, &out, submissionCols+` WHERE `+where, args...); err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	for _, sub := range out {
		if err := sub.decode(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Service) submission(ctx context.Context, courseID, id string) (*Submission, error) {
	list, err := s.submissions(ctx, `s.id = ? AND s.course_id = ?`, id, courseID)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errs.NotFound("not_found", "No such submission in this course.")
	}
	return list[0], nil
}

// shownTo prepares submissions for a member of role: the LMS status
// added, and a student's view stripped of hidden tests' detail.
func (s *Service) shownTo(ctx context.Context, role Role, list ...*Submission) error {
	if s.passback != nil && len(list) > 0 {
		ids := make([]string, len(list))
		for i, sub := range list {
			ids[i] = sub.ID
		}
		st, err := s.passback.Status(ctx, ids)
		if err != nil {
			return fmt.Errorf("read LMS passback status: %w", err)
		}
		for _, sub := range list {
			if v, ok := st[sub.ID]; ok {
				sub.LMS = &v
			}
		}
	}
	if !role.staff() {
		for _, sub := range list {
			if sub.Result != nil {
				r := forStudent(*sub.Result)
				sub.Result = &r
			}
		}
	}
	return nil
}

// forStudent is a result as its student may see it: no test's output,
// and of hidden tests only whether they passed, in general words.
func forStudent(r grade.Result) grade.Result {
	tests := make([]grade.Test, len(r.Tests))
	for i, t := range r.Tests {
		t.Output = ""
		if t.Hidden {
			t.Message = hiddenMessage(t)
		}
		tests[i] = t
	}
	r.Tests = tests
	return r
}

func hiddenMessage(t grade.Test) string {
	switch {
	case t.Passed:
		return "Passed"
	case strings.Contains(strings.ToLower(t.Message), "time limit"):
		return "Time limit exceeded"
	default:
		return "Failed"
	}
}

// lateness is how late a submission at `at` is, and the penalty it gets;
// an error when the policy refuses it.
func lateness(a *Assignment, at int64) (days int, penalty float64, err error) {
	if a.DueAt == nil || at <= *a.DueAt {
		return 0, 0, nil
	}
	days = int(math.Ceil(float64(at-*a.DueAt) / float64(day.Milliseconds())))
	switch p := a.LatePolicy; p.Kind {
	case LateReject:
		return days, 0, errs.Conflict("past_due", "The due date has passed and this assignment takes no late submissions.")
	case LatePenalty:
		if p.MaxDays > 0 && days > p.MaxDays {
			return days, 0, errs.Conflict("past_due", "Late submissions are taken for %d days after the due date; this one is %d days late.", p.MaxDays, days)
		}
		return days, math.Min(100, p.PercentPerDay*float64(days)), nil
	}
	return days, 0, nil
}

// Submit snapshots the student's copy as it is now and queues its
// grading.
func (s *Service) Submit(ctx context.Context, actor *auth.User, courseID, assignmentID string) (*Submission, error) {
	c, a, err := s.reach(ctx, actor, courseID, assignmentID)
	if err != nil {
		return nil, err
	}
	if c.Role != Student {
		return nil, errs.Forbidden("forbidden", "Only the course's students submit; use Check to run the tests on the starter.")
	}
	copyID, err := s.copyOf(ctx, a.ID, actor.ID)
	if err != nil {
		return nil, err
	}
	if copyID == "" {
		return nil, errNotStarted
	}
	now := store.Now()
	days, penalty, err := lateness(a, now)
	if err != nil {
		return nil, err
	}
	var n int
	if err := s.db.Get(ctx, &n, `SELECT COUNT(*) FROM submissions WHERE assignment_id = ? AND user_id = ?`, a.ID, actor.ID); err != nil {
		return nil, fmt.Errorf("count submissions: %w", err)
	}
	if a.MaxSubmissions > 0 && n >= a.MaxSubmissions {
		return nil, errs.Conflict("too_many_submissions", "You have used all %d submissions of this assignment.", a.MaxSubmissions)
	}
	cp, err := s.projects.CheckpointAlways(ctx, actor, copyID, "Submission "+strconv.Itoa(n+1)+": "+a.Title)
	if err != nil {
		return nil, err
	}
	sub := &Submission{ID: store.NewID(), AssignmentID: a.ID, CourseID: courseID, UserID: actor.ID, Username: actor.Username, Number: n + 1,
		Status: Queued, SubmittedAt: now, Late: days > 0, DaysLate: days, PenaltyPercent: penalty, AutoMax: a.Points, MaxScore: a.MaxScore,
		Rubric: []RubricScore{}, Gradings: 1}
	// The snapshot comes from the server's own history, never from the
	// tree the student's sandbox can change while it is read.
	dir := s.submissionDir(courseID, sub.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create submission folder: %w", err)
	}
	if err := s.projects.CheckoutTo(ctx, copyID, cp.ID, dir); err != nil {
		s.removeDir(dir)
		return nil, fmt.Errorf("snapshot submission: %w", err)
	}
	// The row goes first: were the server to stop before the job is in
	// the queue, New queues the row's grading again.
	_, err = s.db.Exec(ctx, `INSERT INTO submissions (id, assignment_id, course_id, user_id, number, commit_id, status, gradings, submitted_at,
		late, days_late, penalty_percent, auto_max, max_score) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)`,
		sub.ID, a.ID, courseID, actor.ID, sub.Number, cp.ID, Queued, now, sub.Late, days, penalty, sub.AutoMax, sub.MaxScore)
	if err != nil {
		s.removeDir(dir)
		if store.IsUnique(err) {
			return nil, errs.Conflict("submit_busy", "Another submission of yours is being made; try again in a moment.")
		}
		return nil, fmt.Errorf("insert submission: %w", err)
	}
	if err := s.enqueue(ctx, sub.ID, 1); err != nil {
		return nil, err
	}
	slog.InfoContext(ctx, "submission queued", "submission_id", sub.ID, "assignment_id", a.ID, "user", actor.Username)
	return sub, s.shownTo(ctx, Student, sub)
}

// gradeArgs is a grading job: the submission and which of its gradings
// (a regrade is a new one, so a new unique job).
type gradeArgs struct {
	SubmissionID string `json:"submission_id"`
	Grading      int    `json:"grading"`
}

func (gradeArgs) Kind() string { return "grade_submission" }

func (s *Service) enqueue(ctx context.Context, id string, grading int) error {
	err := s.queue.Insert(ctx, gradeArgs{SubmissionID: id, Grading: grading}, &river.InsertOpts{
		Queue: GradingQueue, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true},
	})
	if err != nil {
		return fmt.Errorf("queue grading of %s: %w", id, err)
	}
	return nil
}

type gradeWorker struct {
	river.WorkerDefaults[gradeArgs]
	s *Service
}

// NextRetry retries a platform fault soon: a student waits on it.
func (w *gradeWorker) NextRetry(job *river.Job[gradeArgs]) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * 2 * time.Second)
}

// Work grades; the queue retries a platform fault, and the last failed
// attempt marks the submission failed with the reason.
func (w *gradeWorker) Work(ctx context.Context, job *river.Job[gradeArgs]) error {
	err := w.s.grade(ctx, job.Args)
	if err != nil && job.Attempt >= job.MaxAttempts {
		slog.ErrorContext(ctx, "grading failed", "submission_id", job.Args.SubmissionID, "err", err)
		if _, uerr := w.s.db.Exec(context.WithoutCancel(ctx), `UPDATE submissions SET status = ?, reason = ? WHERE id = ? AND gradings = ?`,
			Failed, "Grading could not run: "+err.Error(), job.Args.SubmissionID, job.Args.Grading); uerr != nil {
			return errors.Join(err, uerr)
		}
	}
	return err
}

// grade runs one grading; a submission gone or regraded since is left.
func (s *Service) grade(ctx context.Context, args gradeArgs) error {
	var ref struct {
		CourseID     string `db:"course_id"`
		AssignmentID string `db:"assignment_id"`
	}
	err := s.db.Get(ctx, &ref, `SELECT course_id, assignment_id FROM submissions WHERE id = ? AND gradings = ?`, args.SubmissionID, args.Grading)
	if store.NoRows(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get submission: %w", err)
	}
	a, err := s.assignment(ctx, ref.CourseID, ref.AssignmentID)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `UPDATE submissions SET status = ? WHERE id = ? AND gradings = ?`, Grading, args.SubmissionID, args.Grading); err != nil {
		return fmt.Errorf("mark grading: %w", err)
	}
	res, err := s.grader.Grade(ctx, grade.Job{ID: args.SubmissionID, Dir: s.submissionDir(ref.CourseID, args.SubmissionID), Runner: a.Runner,
		Command: a.Command, Tests: a.Tests, Cases: a.Cases, Limits: a.Limits.grade()})
	if err != nil {
		return fmt.Errorf("grade submission %s: %w", args.SubmissionID, err)
	}
	text, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	auto := 0.0
	if res.Max > 0 {
		auto = round2(a.Points * float64(res.Points) / float64(res.Max))
	}
	return s.settle(ctx, ref.CourseID, args.SubmissionID, a, `UPDATE submissions SET status = ?, graded_at = ?, auto_score = ?, auto_max = ?,
		result = ?, reason = ? WHERE id = ? AND gradings = ?`, Done, store.Now(), auto, a.Points, string(text), res.Reason, args.SubmissionID, args.Grading)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// settle runs update on submission id, then sets its score from what the
// row then holds (automatic part, rubric, late penalty), in one
// transaction: the update's write holds the row, so a grading and a hand
// grading that meet never score from each other's old state, and nobody
// reads a graded submission without its score. Graded is told after.
// An update that matches no row (regraded or deleted since) does nothing.
func (s *Service) settle(ctx context.Context, courseID, id string, a *Assignment, update string, args ...any) error {
	var sub *Submission
	err := s.db.Tx(ctx, func(q store.Q) error {
		n, err := q.Exec(ctx, update, args...)
		if err != nil || n == 0 {
			return err
		}
		list, err := submissionsIn(ctx, q, `s.id = ?`, id)
		if err != nil || len(list) == 0 {
			return err
		}
		sub = list[0]
		sub.Score, sub.MaxScore = scoreOf(sub), a.MaxScore
		_, err = q.Exec(ctx, `UPDATE submissions SET score = ?, max_score = ? WHERE id = ?`, sub.Score, sub.MaxScore, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("score submission %s: %w", id, err)
	}
	if sub != nil && sub.Score != nil {
		events.Publish(ctx, s.bus, Graded{CourseID: courseID, AssignmentID: sub.AssignmentID, SubmissionID: id, UserID: sub.UserID,
			Score: *sub.Score, MaxScore: sub.MaxScore, Comment: sub.Feedback, At: time.Now()})
	}
	return nil
}

// scoreOf is (autoScore + rubric) less the late penalty, not below 0; nil
// while there is neither.
func scoreOf(sub *Submission) *float64 {
	if sub.AutoScore == nil && len(sub.Rubric) == 0 {
		return nil
	}
	total := 0.0
	if sub.AutoScore != nil {
		total = *sub.AutoScore
	}
	for _, r := range sub.Rubric {
		total += r.Points
	}
	v := round2(math.Max(0, total*(1-sub.PenaltyPercent/100)))
	return &v
}

// Submissions lists an assignment's submissions, newest first: everyone's
// for the staff, a student's own for them.
func (s *Service) Submissions(ctx context.Context, actor *auth.User, courseID, assignmentID string) ([]*Submission, error) {
	c, a, err := s.reach(ctx, actor, courseID, assignmentID)
	if err != nil {
		return nil, err
	}
	where, args := `s.assignment_id = ?`, []any{a.ID}
	if !c.Role.staff() {
		where, args = where+` AND s.user_id = ?`, append(args, actor.ID)
	}
	list, err := s.submissions(ctx, where+` ORDER BY s.submitted_at DESC, s.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	return list, s.shownTo(ctx, c.Role, list...)
}

// visit returns a submission actor may see (the staff, or its student).
func (s *Service) visit(ctx context.Context, actor *auth.User, courseID, id string) (*Course, *Submission, error) {
	c, err := s.member(ctx, actor, courseID)
	if err != nil {
		return nil, nil, err
	}
	sub, err := s.submission(ctx, courseID, id)
	if err != nil {
		return nil, nil, err
	}
	if !c.Role.staff() && sub.UserID != actor.ID {
		return nil, nil, errs.NotFound("not_found", "No such submission in this course.")
	}
	return c, sub, nil
}

// Submission returns one submission as actor may see it.
func (s *Service) Submission(ctx context.Context, actor *auth.User, courseID, id string) (*Submission, error) {
	c, sub, err := s.visit(ctx, actor, courseID, id)
	if err != nil {
		return nil, err
	}
	return sub, s.shownTo(ctx, c.Role, sub)
}

// SubmittedFile is one file of a submission's snapshot.
type SubmittedFile struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

const maxListed = 2000

// openFiles opens the snapshot of a submission actor may see.
func (s *Service) openFiles(ctx context.Context, actor *auth.User, courseID, id string) (*safefs.Dir, error) {
	_, sub, err := s.visit(ctx, actor, courseID, id)
	if err != nil {
		return nil, err
	}
	d, err := safefs.OpenDir(s.submissionDir(courseID, sub.ID))
	if err != nil {
		return nil, fmt.Errorf("open submission files: %w", err)
	}
	return d, nil
}

// Files lists the files of a submission's snapshot.
func (s *Service) Files(ctx context.Context, actor *auth.User, courseID, id string) ([]SubmittedFile, error) {
	d, err := s.openFiles(ctx, actor, courseID, id)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	out := []SubmittedFile{}
	err = d.Walk(func(e safefs.Entry) error {
		if e.IsDir() && heavy(e.Name()) {
			return fs.SkipDir
		}
		if !e.Type.IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return nil // gone meanwhile
		}
		out = append(out, SubmittedFile{Path: e.Path, Size: info.Size()})
		if len(out) >= maxListed {
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list submission files: %w", err)
	}
	return out, nil
}

const maxServed = 4 << 20

// File returns one file of a submission's snapshot.
func (s *Service) File(ctx context.Context, actor *auth.User, courseID, id, name string) ([]byte, error) {
	d, err := s.openFiles(ctx, actor, courseID, id)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	b, err := d.ReadFile(name, maxServed)
	if err != nil {
		return nil, errs.NotFound("not_found", "No file %q in this submission (or it is over %d MiB).", name, maxServed>>20)
	}
	return b, nil
}

// heavy folders are installed dependencies and caches, not the work.
func heavy(name string) bool {
	switch name {
	case "node_modules", ".git", "__pycache__", ".venv", "venv", ".cache", ".pytest_cache":
		return true
	}
	return false
}

// GradeInput is a hand grading.
type GradeInput struct {
	Rubric   []RubricScore `json:"rubric"`
	Feedback *string       `json:"feedback"`
}

// GradeByHand sets a submission's rubric points and feedback (teachers
// and TAs); the score is recomputed.
func (s *Service) GradeByHand(ctx context.Context, actor *auth.User, courseID, id string, in GradeInput) (*Submission, error) {
	if _, err := s.as(ctx, actor, courseID, Teacher, Assistant); err != nil {
		return nil, err
	}
	sub, err := s.submission(ctx, courseID, id)
	if err != nil {
		return nil, err
	}
	a, err := s.assignment(ctx, courseID, sub.AssignmentID)
	if err != nil {
		return nil, err
	}
	items := map[string]RubricItem{}
	for _, it := range a.Rubric {
		items[it.ID] = it
	}
	seen := map[string]bool{}
	for _, r := range in.Rubric {
		it, ok := items[r.ID]
		if !ok || seen[r.ID] {
			return nil, errs.Invalid("invalid_rubric", "Grade each of the assignment's rubric items at most once; %q is not one.", r.ID)
		}
		if r.Points < 0 || r.Points > it.Points || len(r.Comment) > maxFeedback {
			return nil, errs.Invalid("invalid_rubric", "%q takes 0 to %g points.", it.Title, it.Points)
		}
		seen[r.ID] = true
	}
	if in.Rubric == nil {
		in.Rubric = sub.Rubric
	}
	feedback := sub.Feedback
	if in.Feedback != nil {
		feedback = *in.Feedback
	}
	if len(feedback) > maxFeedback {
		return nil, errs.Invalid("invalid_feedback", "Feedback is at most %d bytes.", maxFeedback)
	}
	text, err := json.Marshal(in.Rubric)
	if err != nil {
		return nil, fmt.Errorf("encode rubric: %w", err)
	}
	if err := s.settle(ctx, courseID, id, a, `UPDATE submissions SET rubric = ?, feedback = ? WHERE id = ?`, string(text), feedback, id); err != nil {
		return nil, err
	}
	s.audit.Record(ctx, actor.AuditActor(), "course.grade", audit.Target("course", courseID, "submission", id),
		map[string]any{"student": sub.Username, "rubric": in.Rubric})
	return s.Submission(ctx, actor, courseID, id)
}

// Regrade queues a submission's grading again (teachers), e.g. after the
// tests changed.
func (s *Service) Regrade(ctx context.Context, actor *auth.User, courseID, id string) (*Submission, error) {
	if _, err := s.as(ctx, actor, courseID, Teacher); err != nil {
		return nil, err
	}
	sub, err := s.submission(ctx, courseID, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Exec(ctx, `UPDATE submissions SET status = ?, gradings = gradings + 1, reason = '' WHERE id = ?`, Queued, id); err != nil {
		return nil, fmt.Errorf("queue regrade: %w", err)
	}
	if err := s.enqueue(ctx, id, sub.Gradings+1); err != nil {
		return nil, err
	}
	s.audit.Record(ctx, actor.AuditActor(), "course.regrade", audit.Target("course", courseID, "submission", id), map[string]any{"student": sub.Username})
	return s.Submission(ctx, actor, courseID, id)
}

// mine is a student's standing on an assignment.
func (s *Service) mine(ctx context.Context, a *Assignment, userID string) (*Mine, error) {
	m := &Mine{State: "not_started"}
	id, err := s.copyOf(ctx, a.ID, userID)
	if err != nil {
		return nil, err
	}
	if id != "" {
		m.ProjectID, m.State = &id, "in_progress"
	}
	list, err := s.submissions(ctx, `s.assignment_id = ? AND s.user_id = ? ORDER BY s.submitted_at DESC, s.id DESC`, a.ID, userID)
	if err != nil {
		return nil, err
	}
	if err := s.shownTo(ctx, Student, list...); err != nil {
		return nil, err
	}
	m.Submissions = len(list)
	if len(list) > 0 {
		m.Latest, m.State = list[0], "submitted"
	}
	m.Best = best(list)
	if m.Best != nil {
		m.State = "graded"
	}
	return m, nil
}

// best is the graded submission with the highest score (the newest of
// equals), or nil.
func best(list []*Submission) *Submission {
	var b *Submission
	for _, sub := range list { // newest first
		if sub.Score != nil && (b == nil || *sub.Score > *b.Score) {
			b = sub
		}
	}
	return b
}
