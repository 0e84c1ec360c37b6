package course

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/grade"
	"ecode/internal/project"
	"ecode/internal/store"
)

const (
	maxTitle        = 200
	maxInstructions = 100_000
	maxTests        = 50
	maxTestBytes    = 256 << 10
	maxCases        = 200
	maxCaseBytes    = 64 << 10
	maxRubric       = 50
	maxPoints       = 10_000
	defaultPoints   = 100
)

// Late policies.
const (
	LateNone    = "none"
	LatePenalty = "penalty"
	LateReject  = "reject"
)

// RubricItem is one hand-graded criterion.
type RubricItem struct {
	ID     string  `json:"id"`
	Title  string  `json:"title"`
	Points float64 `json:"points"`
}

// LatePolicy says what a submission after the due date gets.
type LatePolicy struct {
	Kind          string  `json:"kind"`          // none, penalty, reject
	PercentPerDay float64 `json:"percentPerDay"` // penalty: off the score per day late
	MaxDays       int     `json:"maxDays"`       // penalty: refused after this many days late (0: never)
}

// Limits bound a grading sandbox; zero takes the grader's defaults.
type Limits struct {
	CPUSeconds  int `json:"cpuSeconds"`
	WallSeconds int `json:"wallSeconds"`
	MemoryMB    int `json:"memoryMB"`
}

// Assignment is a task of a course. Students see it without the hidden
// tests and cases (HiddenTests counts them) and with Mine.
type Assignment struct {
	ID               string           `json:"id"`
	CourseID         string           `json:"courseId"`
	Title            string           `json:"title"`
	Instructions     string           `json:"instructions"`
	StarterProjectID string           `json:"starterProjectId"`
	Runner           grade.Runner     `json:"runner"`
	Command          string           `json:"command"`
	Tests            []grade.TestFile `json:"tests"`
	Cases            []grade.IOCase   `json:"cases"`
	HiddenTests      int              `json:"hiddenTests"`
	Rubric           []RubricItem     `json:"rubric"`
	Points           float64          `json:"points"`
	MaxScore         float64          `json:"maxScore"`
	DueAt            *int64           `json:"dueAt"`
	LatePolicy       LatePolicy       `json:"latePolicy"`
	MaxSubmissions   int              `json:"maxSubmissions"`
	Limits           Limits           `json:"limits"`
	Published        bool             `json:"published"`
	CreatedAt        int64            `json:"createdAt"`
	UpdatedAt        int64            `json:"updatedAt"`
	Mine             *Mine            `json:"mine,omitempty"`
}

// Mine is a student's own standing on an assignment.
type Mine struct {
	ProjectID   *string     `json:"projectId"`
	State       string      `json:"state"` // not_started, in_progress, submitted, graded
	Submissions int         `json:"submissions"`
	Best        *Submission `json:"best"`
	Latest      *Submission `json:"latest"`
}

// assignmentRow is an assignment as stored, its lists as JSON text.
type assignmentRow struct {
	ID             string  `db:"id"`
	CourseID       string  `db:"course_id"`
	Title          string  `db:"title"`
	Instructions   string  `db:"instructions"`
	Starter        string  `db:"starter_project_id"`
	Runner         string  `db:"runner"`
	Command        string  `db:"command"`
	Tests          string  `db:"tests"`
	Cases          string  `db:"cases"`
	Rubric         string  `db:"rubric"`
	Points         float64 `db:"points"`
	DueAt          *int64  `db:"due_at"`
	LatePolicy     string  `db:"late_policy"`
	MaxSubmissions int     `db:"max_submissions"`
	Limits         string  `db:"limits"`
	Published      bool    `db:"published"`
	CreatedAt      int64   `db:"created_at"`
	UpdatedAt      int64   `db:"updated_at"`
}

const assignmentCols = `SELECT id, course_id, title, instructions, starter_project_id, runner, command, tests, cases, rubric, points,
	due_at, late_policy, max_submissions, limits, published, created_at, updated_at FROM assignments`

func (r *assignmentRow) assignment() (*Assignment, error) {
	a := &Assignment{ID: r.ID, CourseID: r.CourseID, Title: r.Title, Instructions: r.Instructions, StarterProjectID: r.Starter,
		Runner: grade.Runner(r.Runner), Command: r.Command, Points: r.Points, DueAt: r.DueAt, MaxSubmissions: r.MaxSubmissions,
		Published: r.Published, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, f := range []struct {
		text string
		dst  any
	}{{r.Tests, &a.Tests}, {r.Cases, &a.Cases}, {r.Rubric, &a.Rubric}, {r.LatePolicy, &a.LatePolicy}, {r.Limits, &a.Limits}} {
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return nil, fmt.Errorf("read assignment %s: %w", r.ID, err)
		}
	}
	a.MaxScore = a.Points
	for _, it := range a.Rubric {
		a.MaxScore += it.Points
	}
	return a, nil
}

// assignment reads one assignment of a course, hidden parts and all.
func (s *Service) assignment(ctx context.Context, courseID, id string) (*Assignment, error) {
	var r assignmentRow
	err := s.db.Get(ctx, &r, assignmentCols+` WHERE id = ? AND course_id = ?`, id, courseID)
	if store.NoRows(err) {
		return nil, errs.NotFound("not_found", "No such assignment in this course.")
	}
	if err != nil {
		return nil, fmt.Errorf("get assignment: %w", err)
	}
	return r.assignment()
}

// visible returns the assignment with what students may see of it; the
// hidden tests and cases are counted, never copied.
func (a *Assignment) visible() *Assignment {
	v := *a
	v.Tests, v.Cases, v.HiddenTests = []grade.TestFile{}, []grade.IOCase{}, 0
	for _, t := range a.Tests {
		if t.Hidden {
			v.HiddenTests++
		} else {
			v.Tests = append(v.Tests, t)
		}
	}
	for _, c := range a.Cases {
		if c.Hidden {
			v.HiddenTests++
		} else {
			v.Cases = append(v.Cases, c)
		}
	}
	return &v
}

// forRole is the assignment as a member of role sees it: students get
// the visible part and their own standing.
func (s *Service) forRole(ctx context.Context, a *Assignment, role Role, userID string) (*Assignment, error) {
	if role.staff() {
		v := *a
		v.HiddenTests = a.visible().HiddenTests
		return &v, nil
	}
	v := a.visible()
	mine, err := s.mine(ctx, a, userID)
	if err != nil {
		return nil, err
	}
	v.Mine = mine
	return v, nil
}

// Assignments lists a course's assignments as actor's role sees them;
// students see the published ones only.
func (s *Service) Assignments(ctx context.Context, actor *auth.User, courseID string) ([]*Assignment, error) {
	c, err := s.member(ctx, actor, courseID)
	if err != nil {
		return nil, err
	}
	var rows []assignmentRow
	q := assignmentCols + ` WHERE course_id = ?`
	if !c.Role.staff() {
		q += ` AND published`
	}
	if err := s.db.Select(ctx, &rows, q+` ORDER BY created_at, id`, courseID); err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	out := make([]*Assignment, 0, len(rows))
	for _, r := range rows {
		a, err := r.assignment()
		if err != nil {
			return nil, err
		}
		if a, err = s.forRole(ctx, a, c.Role, actor.ID); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// AssignmentsFor is Assignments for the LTI capability (deep linking).
func (s *Service) AssignmentsFor(ctx context.Context, actor *auth.User, courseID string) ([]Assignment, error) {
	list, err := s.Assignments(ctx, actor, courseID)
	if err != nil {
		return nil, err
	}
	out := make([]Assignment, len(list))
	for i, a := range list {
		out[i] = *a
	}
	return out, nil
}

// Get returns one assignment as actor's role sees it.
func (s *Service) Get(ctx context.Context, actor *auth.User, courseID, id string) (*Assignment, error) {
	c, a, err := s.reach(ctx, actor, courseID, id)
	if err != nil {
		return nil, err
	}
	return s.forRole(ctx, a, c.Role, actor.ID)
}

// reach returns the course and one of its assignments that actor may
// see: a student never reaches an unpublished one.
func (s *Service) reach(ctx context.Context, actor *auth.User, courseID, id string) (*Course, *Assignment, error) {
	c, err := s.member(ctx, actor, courseID)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.assignment(ctx, courseID, id)
	if err != nil {
		return nil, nil, err
	}
	if !a.Published && !c.Role.staff() {
		return nil, nil, errs.NotFound("not_found", "No such assignment in this course.")
	}
	return c, a, nil
}

// AssignmentInput is what a teacher writes; nil fields are left as they
// are (on create: their defaults).
type AssignmentInput struct {
	Title          *string           `json:"title"`
	Instructions   *string           `json:"instructions"`
	Template       string            `json:"template"`
	ProjectID      string            `json:"projectId"`
	Runner         *grade.Runner     `json:"runner"`
	Command        *string           `json:"command"`
	Tests          *[]grade.TestFile `json:"tests"`
	Cases          *[]grade.IOCase   `json:"cases"`
	Rubric         *[]RubricItem     `json:"rubric"`
	Points         *float64          `json:"points"`
	DueAt          optionalTime      `json:"dueAt"`
	LatePolicy     *LatePolicy       `json:"latePolicy"`
	MaxSubmissions *int              `json:"maxSubmissions"`
	Limits         *Limits           `json:"limits"`
	Published      *bool             `json:"published"`
}

// apply writes in's fields onto a and checks the result.
func (in *AssignmentInput) apply(a *Assignment) error {
	setIf(&a.Title, in.Title)
	setIf(&a.Instructions, in.Instructions)
	setIf(&a.Runner, in.Runner)
	setIf(&a.Command, in.Command)
	setIf(&a.Tests, in.Tests)
	setIf(&a.Cases, in.Cases)
	setIf(&a.Rubric, in.Rubric)
	setIf(&a.Points, in.Points)
	if in.DueAt.Set {
		a.DueAt = in.DueAt.Value
	}
	setIf(&a.LatePolicy, in.LatePolicy)
	setIf(&a.MaxSubmissions, in.MaxSubmissions)
	setIf(&a.Limits, in.Limits)
	setIf(&a.Published, in.Published)
	return a.check()
}

func setIf[T any](dst, src *T) {
	if src != nil {
		*dst = *src
	}
}

// optionalTime tells a time given as null (none) from one not given.
type optionalTime struct {
	Set   bool
	Value *int64
}

func (o *optionalTime) UnmarshalJSON(b []byte) error {
	o.Set = true
	return json.Unmarshal(b, &o.Value)
}

func (a *Assignment) check() error {
	a.Title = strings.TrimSpace(a.Title)
	if a.Title == "" || utf8.RuneCountInString(a.Title) > maxTitle || strings.ContainsAny(a.Title, "\x00\n\r") {
		return errs.Invalid("invalid_title", "An assignment title is 1 to %d characters on one line.", maxTitle)
	}
	if len(a.Instructions) > maxInstructions {
		return errs.Invalid("invalid_instructions", "Instructions are at most %d bytes.", maxInstructions)
	}
	switch a.Runner {
	case grade.Pytest, grade.Unittest, grade.Node, grade.Jest, grade.GoTest:
	case grade.IO:
		if strings.TrimSpace(a.Command) == "" {
			return errs.Invalid("invalid_command", "Input/output tests need the command that runs the program, e.g. \"python3 main.py\".")
		}
	default:
		return errs.Invalid("invalid_runner", "The runner is one of pytest, unittest, node, jest, go or io.")
	}
	if len(a.Command) > 1000 {
		return errs.Invalid("invalid_command", "The command is at most 1000 bytes.")
	}
	if err := checkTests(a.Tests); err != nil {
		return err
	}
	if err := checkCases(a.Cases); err != nil {
		return err
	}
	if err := checkRubric(a.Rubric); err != nil {
		return err
	}
	if a.Points < 0 || a.Points > maxPoints {
		return errs.Invalid("invalid_points", "Points are between 0 and %d.", maxPoints)
	}
	if a.DueAt != nil && *a.DueAt <= 0 {
		return errs.Invalid("invalid_due", "The due date is a time in unix milliseconds, or null for none.")
	}
	if a.LatePolicy.Kind == "" {
		a.LatePolicy.Kind = LateNone
	}
	switch p := a.LatePolicy; {
	case p.Kind != LateNone && p.Kind != LatePenalty && p.Kind != LateReject:
		return errs.Invalid("invalid_late_policy", "The late policy is none, penalty or reject.")
	case p.PercentPerDay < 0 || p.PercentPerDay > 100 || p.MaxDays < 0 || p.MaxDays > 365:
		return errs.Invalid("invalid_late_policy", "A late penalty is 0 to 100 percent a day, for at most 365 days.")
	}
	if a.MaxSubmissions < 0 || a.MaxSubmissions > 1000 {
		return errs.Invalid("invalid_max_submissions", "Submissions allowed are 0 (no limit) to 1000.")
	}
	if l := a.Limits; l.CPUSeconds < 0 || l.CPUSeconds > 60 || l.WallSeconds < 0 || l.WallSeconds > 300 || l.MemoryMB < 0 || l.MemoryMB > 4096 {
		return errs.Invalid("invalid_limits", "Limits are at most 60 s of CPU, 300 s of wall time and 4096 MB of memory (0: the default).")
	}
	return nil
}

func checkTests(tests []grade.TestFile) error {
	if len(tests) > maxTests {
		return errs.Invalid("invalid_tests", "An assignment has at most %d test files.", maxTests)
	}
	seen := map[string]bool{}
	for i := range tests {
		p, err := project.CleanPath(tests[i].Path)
		if err != nil {
			return err
		}
		if seen[p] {
			return errs.Invalid("invalid_tests", "Two test files are at %s.", p)
		}
		seen[p] = true
		tests[i].Path = p
		if len(tests[i].Content) > maxTestBytes {
			return errs.Invalid("invalid_tests", "The test file %s is over %d KiB.", p, maxTestBytes>>10)
		}
	}
	return nil
}

func checkCases(cases []grade.IOCase) error {
	if len(cases) > maxCases {
		return errs.Invalid("invalid_cases", "An assignment has at most %d input/output cases.", maxCases)
	}
	for i := range cases {
		c := &cases[i]
		c.Name = strings.TrimSpace(c.Name)
		if c.Name == "" {
			c.Name = "Case " + strconv.Itoa(i+1)
		}
		if c.Points == 0 {
			c.Points = 1
		}
		if c.Points < 0 || c.Points > maxPoints || len(c.Stdin)+len(c.Stdout) > maxCaseBytes || len(c.Name) > maxTitle {
			return errs.Invalid("invalid_cases", "Case %q: points 1 to %d, input and output at most %d KiB.", c.Name, maxPoints, maxCaseBytes>>10)
		}
	}
	return nil
}

func checkRubric(items []RubricItem) error {
	if len(items) > maxRubric {
		return errs.Invalid("invalid_rubric", "A rubric has at most %d items.", maxRubric)
	}
	seen := map[string]bool{}
	for i := range items {
		it := &items[i]
		it.Title = strings.TrimSpace(it.Title)
		if it.ID == "" {
			it.ID = "r" + strconv.Itoa(i+1)
		}
		if it.Title == "" || len(it.Title) > maxTitle || it.Points < 0 || it.Points > maxPoints || seen[it.ID] || len(it.ID) > 64 {
			return errs.Invalid("invalid_rubric", "Each rubric item has a unique id, a title and 0 to %d points.", maxPoints)
		}
		seen[it.ID] = true
	}
	return nil
}

// CreateAssignment makes an assignment and its starter project (the
// caller's, from a template or a copy of a project they can read) with
// the visible test files in it.
func (s *Service) CreateAssignment(ctx context.Context, actor *auth.User, courseID string, in AssignmentInput) (*Assignment, error) {
	if _, err := s.as(ctx, actor, courseID, Teacher); err != nil {
		return nil, err
	}
	now := store.Now()
	a := &Assignment{ID: store.NewID(), CourseID: courseID, Points: defaultPoints, Tests: []grade.TestFile{}, Cases: []grade.IOCase{},
		Rubric: []RubricItem{}, LatePolicy: LatePolicy{Kind: LateNone}, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(a); err != nil {
		return nil, err
	}
	starter, err := s.makeStarter(ctx, actor, a.Title, in)
	if err != nil {
		return nil, err
	}
	a.StarterProjectID = starter.ID
	err = s.writeVisibleTests(starter, nil, a.Tests)
	if err == nil {
		err = s.saveAssignment(ctx, a, true)
	}
	if err != nil {
		if derr := s.projects.Delete(ctx, actor, starter.ID); derr != nil {
			slog.ErrorContext(ctx, "remove the starter of an assignment not made", "project_id", starter.ID, "err", derr)
		}
		return nil, err
	}
	return s.forRole(ctx, a, Teacher, actor.ID)
}

// makeStarter creates the starter project: a copy of in.ProjectID, or the
// template's files (a number added to the name when the caller already
// has a project called so).
func (s *Service) makeStarter(ctx context.Context, actor *auth.User, title string, in AssignmentInput) (*project.Project, error) {
	if in.ProjectID != "" {
		if _, err := s.projects.Get(ctx, actor, in.ProjectID, access.Read); err != nil {
			return nil, err
		}
		return s.projects.CopyFor(ctx, actor, in.ProjectID, title)
	}
	name := title
	for n := 2; ; n++ {
		p, err := s.projects.Create(ctx, actor, project.CreateInput{Name: name, Template: in.Template})
		if e, ok := errs.As(err); ok && e.Code == "project_exists" && n < 20 {
			name = title + " " + strconv.Itoa(n)
			continue
		}
		return p, err
	}
}

// writeVisibleTests puts the visible test files into the starter and
// removes visible ones the assignment no longer has. Hidden ones are
// never written there.
func (s *Service) writeVisibleTests(starter *project.Project, old, tests []grade.TestFile) error {
	tree := s.projects.Tree(starter)
	keep := map[string]bool{}
	for _, t := range tests {
		if t.Hidden {
			continue
		}
		keep[t.Path] = true
		if _, err := tree.Write(t.Path, strings.NewReader(t.Content)); err != nil {
			return fmt.Errorf("write test %s into the starter: %w", t.Path, err)
		}
	}
	for _, t := range old {
		if !t.Hidden && !keep[t.Path] && tree.Exists(t.Path) {
			if err := tree.Delete(t.Path); err != nil {
				return fmt.Errorf("remove test %s from the starter: %w", t.Path, err)
			}
		}
	}
	return nil
}

func (s *Service) saveAssignment(ctx context.Context, a *Assignment, insert bool) error {
	texts := make([]string, 5)
	for i, v := range []any{a.Tests, a.Cases, a.Rubric, a.LatePolicy, a.Limits} {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode assignment: %w", err)
		}
		texts[i] = string(b)
	}
	a.MaxScore = a.Points
	for _, it := range a.Rubric {
		a.MaxScore += it.Points
	}
	var err error
	if insert {
		_, err = s.db.Exec(ctx, `INSERT INTO assignments (id, course_id, title, instructions, starter_project_id, runner, command, tests, cases,
			rubric, points, due_at, late_policy, max_submissions, limits, published, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.CourseID, a.Title, a.Instructions, a.StarterProjectID,
			a.Runner, a.Command, texts[0], texts[1], texts[2], a.Points, a.DueAt, texts[3], a.MaxSubmissions, texts[4], a.Published, a.CreatedAt, a.UpdatedAt)
	} else {
		_, err = s.db.Exec(ctx, `UPDATE assignments SET title = ?, instructions = ?, runner = ?, command = ?, tests = ?, cases = ?, rubric = ?,
			points = ?, due_at = ?, late_policy = ?, max_submissions = ?, limits = ?, published = ?, updated_at = ? WHERE id = ?`,
			a.Title, a.Instructions, a.Runner, a.Command, texts[0], texts[1], texts[2], a.Points, a.DueAt, texts[3], a.MaxSubmissions, texts[4],
			a.Published, a.UpdatedAt, a.ID)
	}
	if err != nil {
		return fmt.Errorf("save assignment: %w", err)
	}
	return nil
}

// UpdateAssignment changes an assignment; changed visible tests are
// rewritten in the starter (students' copies made before keep theirs).
func (s *Service) UpdateAssignment(ctx context.Context, actor *auth.User, courseID, id string, in AssignmentInput) (*Assignment, error) {
	if _, err := s.as(ctx, actor, courseID, Teacher); err != nil {
		return nil, err
	}
	a, err := s.assignment(ctx, courseID, id)
	if err != nil {
		return nil, err
	}
	old := a.Tests
	if err := in.apply(a); err != nil {
		return nil, err
	}
	a.UpdatedAt = store.Now()
	if in.Tests != nil && a.StarterProjectID != "" {
		starter, err := s.projects.ByID(ctx, a.StarterProjectID)
		if err != nil {
			return nil, err
		}
		if err := s.writeVisibleTests(starter, old, a.Tests); err != nil {
			return nil, err
		}
	}
	if err := s.saveAssignment(ctx, a, false); err != nil {
		return nil, err
	}
	return s.forRole(ctx, a, Teacher, actor.ID)
}

// DeleteAssignment removes an assignment and its submissions; the starter
// and the students' copies stay their owners' projects.
func (s *Service) DeleteAssignment(ctx context.Context, actor *auth.User, courseID, id string) error {
	if _, err := s.as(ctx, actor, courseID, Teacher); err != nil {
		return err
	}
	var subs []string
	if err := s.db.Select(ctx, &subs, `SELECT id FROM submissions WHERE assignment_id = ?`, id); err != nil {
		return fmt.Errorf("list submissions: %w", err)
	}
	n, err := s.db.Exec(ctx, `DELETE FROM assignments WHERE id = ? AND course_id = ?`, id, courseID)
	if err != nil {
		return fmt.Errorf("delete assignment: %w", err)
	}
	if n == 0 {
		return errs.NotFound("not_found", "No such assignment in this course.")
	}
	for _, sid := range subs {
		s.removeDir(s.submissionDir(courseID, sid))
	}
	return nil
}

// copyOf is the project id of userID's copy of an assignment, or "".
func (s *Service) copyOf(ctx context.Context, assignmentID, userID string) (string, error) {
	var id string
	err := s.db.Get(ctx, &id, `SELECT project_id FROM assignment_copies WHERE assignment_id = ? AND user_id = ?`, assignmentID, userID)
	if store.NoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find assignment copy: %w", err)
	}
	return id, nil
}

// StartCopy returns actor's own copy of the assignment's starter, making
// it (private, named after the assignment) the first time. Teachers and
// TAs are handed the starter itself.
func (s *Service) StartCopy(ctx context.Context, actor *auth.User, courseID, assignmentID string) (*project.Project, error) {
	c, a, err := s.reach(ctx, actor, courseID, assignmentID)
	if err != nil {
		return nil, err
	}
	if c.Role.staff() {
		if a.StarterProjectID == "" {
			return nil, errStarterGone
		}
		return s.projects.ByID(ctx, a.StarterProjectID)
	}
	if id, err := s.copyOf(ctx, a.ID, actor.ID); err != nil || id != "" {
		if err != nil {
			return nil, err
		}
		return s.projects.Get(ctx, actor, id, access.Read)
	}
	if a.StarterProjectID == "" {
		return nil, errStarterGone
	}
	p, err := s.projects.CopyFor(ctx, actor, a.StarterProjectID, a.Title)
	if err != nil {
		return nil, err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO assignment_copies (assignment_id, user_id, project_id, created_at) VALUES (?, ?, ?, ?)`,
		a.ID, actor.ID, p.ID, store.Now())
	if store.IsUnique(err) { // a second start at the same time won
		if derr := s.projects.Delete(ctx, actor, p.ID); derr != nil {
			return nil, derr
		}
		return s.StartCopy(ctx, actor, courseID, assignmentID)
	}
	if err != nil {
		return nil, fmt.Errorf("record assignment copy: %w", err)
	}
	return p, nil
}

var errStarterGone = errs.Conflict("starter_missing", "This assignment's starter project was deleted; the teacher needs to set the assignment up again.")

// Check runs the visible tests now, on the student's own copy (or, for
// the course's staff, on the starter), in a fresh grading sandbox.
func (s *Service) Check(ctx context.Context, actor *auth.User, courseID, assignmentID string) (*grade.Result, error) {
	c, a, err := s.reach(ctx, actor, courseID, assignmentID)
	if err != nil {
		return nil, err
	}
	projectID := a.StarterProjectID
	if !c.Role.staff() {
		if projectID, err = s.copyOf(ctx, a.ID, actor.ID); err != nil {
			return nil, err
		}
		if projectID == "" {
			return nil, errNotStarted
		}
	} else if projectID == "" {
		return nil, errStarterGone
	}
	v := a.visible()
	select {
	case s.checks <- struct{}{}:
		defer func() { <-s.checks }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// The live tree is read only through safefs by the grader; hidden
	// tests are not in the job at all.
	res, err := s.grader.Grade(ctx, grade.Job{ID: "check-" + store.NewID(), Dir: s.projects.Dir(projectID), Runner: a.Runner,
		Command: a.Command, Tests: v.Tests, Cases: v.Cases, Limits: a.Limits.grade(), VisibleOnly: true})
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", a.Title, err)
	}
	if !c.Role.staff() {
		res = forStudent(res)
	}
	return &res, nil
}

var errNotStarted = errs.Conflict("not_started", "Start the assignment first: it makes your own copy of the starter project.")

func (l Limits) grade() grade.Limits {
	return grade.Limits{CPUSeconds: l.CPUSeconds, WallSeconds: l.WallSeconds, MemoryBytes: int64(l.MemoryMB) << 20}
}
