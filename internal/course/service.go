// Package course is education: courses and their people, assignments
// with visible and hidden tests, each student's own copy, submissions
// graded in sandboxes through the job queue, manual grading, progress.
package course

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/events"
	"ecode/internal/grade"
	"ecode/internal/jobs"
	"ecode/internal/project"
	"ecode/internal/store"
)

// Role is a person's place in a course.
type Role string

const (
	Teacher   Role = "teacher" // the course's owner and co-teachers
	Assistant Role = "ta"
	Student   Role = "student"
)

func (r Role) valid() bool { return r == Teacher || r == Assistant || r == Student }

// staff: teachers and TAs see everyone's work.
func (r Role) staff() bool { return r == Teacher || r == Assistant }

// Course is a class, as one of its members (Role) sees it.
type Course struct {
	ID              string   `json:"id" db:"id"`
	Name            string   `json:"name" db:"name"`
	Description     string   `json:"description" db:"description"`
	OwnerID         string   `json:"ownerId" db:"owner_id"`
	CreatedAt       int64    `json:"createdAt" db:"created_at"`
	Role            Role     `json:"role" db:"role"`
	JoinCode        string   `json:"joinCode,omitempty" db:"join_code"` // teachers only
	StudentCount    int      `json:"studentCount" db:"student_count"`
	AssignmentCount int      `json:"assignmentCount" db:"assignment_count"`
	LTI             *LTILink `json:"lti" db:"-"`
	PlatformID      string   `json:"-" db:"lti_platform_id"`
	ContextID       string   `json:"-" db:"lti_context_id"`
}

// LTILink names the LMS course a course mirrors.
type LTILink struct {
	PlatformID string `json:"platformId"`
	ContextID  string `json:"contextId"`
}

// Graded is published when a submission's score is set or changes
// (grading ended, a teacher graded by hand): the LMS passback listens.
type Graded struct {
	CourseID     string
	AssignmentID string
	SubmissionID string
	UserID       string
	Score        float64
	MaxScore     float64
	Comment      string
	At           time.Time
}

// ContextLink names an LMS course (an LTI context) that a course mirrors.
type ContextLink struct {
	PlatformID string
	ContextID  string
	Title      string
}

// GradingQueue is the job queue's queue that grades submissions.
const GradingQueue = "grading"

// maxChecks is how many students' checks run at once, so checks never
// take every sandbox the queued gradings need.
const maxChecks = 4

// Options configure the service.
type Options struct {
	DataDir string // submissions are kept under DataDir/submissions
}

// Passback reports where submissions' scores stand in the LMS; the LTI
// capability hands itself over with UsePassback.
type Passback interface {
	Status(ctx context.Context, submissionIDs []string) (map[string]LMSStatus, error)
}

// LMSStatus is one submission's score passback.
type LMSStatus struct {
	Status   string `json:"status"` // pending, sent, failed
	Attempts int    `json:"attempts"`
	Error    string `json:"error"`
	SentAt   int64  `json:"sentAt"`
}

// Service is the education capability.
type Service struct {
	db       *store.DB
	bus      *events.Bus
	projects *project.Service
	accounts *auth.Service
	grader   *grade.Grader
	queue    *jobs.Queue
	audit    *audit.Log
	opts     Options
	subDir   string        // DataDir/submissions/<course>/<submission>
	checks   chan struct{} // a slot per running check
	passback Passback      // nil until the LTI capability joins
}

// New builds the service and registers its grading worker on queue.
// Submissions still queued or grading when the server last stopped are
// queued again (a job already in the queue is not doubled).
func New(ctx context.Context, db *store.DB, bus *events.Bus, projects *project.Service, accounts *auth.Service,
	grader *grade.Grader, queue *jobs.Queue, audits *audit.Log, opts Options) (*Service, error) {
	if db == nil || bus == nil || projects == nil || accounts == nil || grader == nil || queue == nil || opts.DataDir == "" {
		panic("course.New: nil db, bus, projects, accounts, grader or queue, or no data dir")
	}
	s := &Service{db: db, bus: bus, projects: projects, accounts: accounts, grader: grader, queue: queue, audit: audits, opts: opts,
		subDir: filepath.Join(opts.DataDir, "submissions"), checks: make(chan struct{}, maxChecks)}
	if err := os.MkdirAll(s.subDir, 0o700); err != nil {
		return nil, fmt.Errorf("create submissions dir: %w", err)
	}
	jobs.Register(queue, &gradeWorker{s: s})
	if err := s.requeue(ctx); err != nil {
		return nil, err
	}
	events.Subscribe(bus, s.projectDeleted)
	accounts.BeforeDelete(s.leaveAll)
	return s, nil
}

// UsePassback hands courses the LTI capability's passback state, shown
// on submissions as lms. It is called once, from that capability's
// constructor.
func (s *Service) UsePassback(p Passback) {
	if p == nil || s.passback != nil {
		panic("course: UsePassback wants one passback, once")
	}
	s.passback = p
}

// requeue puts every unfinished submission's grading back in the queue.
// A queued one keeps its job (a unique insert of the same arguments is
// none). One that was grading when the server stopped may have a job
// River still holds as running, which only its rescuer frees, after a
// while: it becomes a new grading, and the old job, if ever run again,
// finds itself stale.
func (s *Service) requeue(ctx context.Context) error {
	if _, err := s.db.Exec(ctx, `UPDATE submissions SET status = ?, gradings = gradings + 1 WHERE status = ?`, Queued, Grading); err != nil {
		return fmt.Errorf("requeue interrupted gradings: %w", err)
	}
	var rows []struct {
		ID       string `db:"id"`
		Gradings int    `db:"gradings"`
	}
	if err := s.db.Select(ctx, &rows, `SELECT id, gradings FROM submissions WHERE status = ?`, Queued); err != nil {
		return fmt.Errorf("list unfinished submissions: %w", err)
	}
	for _, r := range rows {
		if err := s.enqueue(ctx, r.ID, r.Gradings); err != nil {
			return err
		}
	}
	if len(rows) > 0 {
		slog.InfoContext(ctx, "submissions queued again", "count", len(rows))
	}
	return nil
}

// projectDeleted forgets a deleted student copy (that student starts
// again) and a deleted starter (the assignment stays; starting it is
// refused until the teacher sets it up again).
func (s *Service) projectDeleted(ctx context.Context, e project.Deleted) {
	if _, err := s.db.Exec(ctx, `DELETE FROM assignment_copies WHERE project_id = ?`, e.ProjectID); err != nil {
		slog.ErrorContext(ctx, "forget a deleted assignment copy", "project_id", e.ProjectID, "err", err)
	}
	if _, err := s.db.Exec(ctx, `UPDATE assignments SET starter_project_id = '' WHERE starter_project_id = ?`, e.ProjectID); err != nil {
		slog.ErrorContext(ctx, "forget a deleted starter project", "project_id", e.ProjectID, "err", err)
	}
}

// leaveAll removes an account that goes from every course: the courses it
// owns go with it, its memberships, copies and submissions elsewhere too.
func (s *Service) leaveAll(ctx context.Context, u *auth.User) error {
	var owned []string
	if err := s.db.Select(ctx, &owned, `SELECT id FROM courses WHERE owner_id = ?`, u.ID); err != nil {
		return fmt.Errorf("list owned courses: %w", err)
	}
	for _, id := range owned {
		if err := s.deleteCourse(ctx, u, id); err != nil {
			return err
		}
	}
	var subs []struct {
		ID       string `db:"id"`
		CourseID string `db:"course_id"`
	}
	if err := s.db.Select(ctx, &subs, `SELECT id, course_id FROM submissions WHERE user_id = ?`, u.ID); err != nil {
		return fmt.Errorf("list submissions of %s: %w", u.ID, err)
	}
	err := s.db.Tx(ctx, func(q store.Q) error {
		for _, stmt := range []string{
			`DELETE FROM submissions WHERE user_id = ?`,
			`DELETE FROM assignment_copies WHERE user_id = ?`,
			`DELETE FROM course_members WHERE user_id = ?`,
		} {
			if _, err := q.Exec(ctx, stmt, u.ID); err != nil {
				return fmt.Errorf("leave courses: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, sub := range subs {
		s.removeDir(s.submissionDir(sub.CourseID, sub.ID))
	}
	return nil
}

func (s *Service) submissionDir(courseID, submissionID string) string {
	return filepath.Join(s.subDir, courseID, submissionID)
}

// removeDir removes a folder of the server's own (submissions).
func (s *Service) removeDir(dir string) {
	if err := os.RemoveAll(dir); err != nil {
		slog.Error("remove submission files", "dir", dir, "err", err)
	}
}
