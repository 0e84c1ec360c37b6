package course

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/store"
)

const (
	maxCourseName   = 120
	maxDescription  = 4000
	joinCodeLen     = 8
	joinCodeLetters = "ABCDEFGHJKMNPQRSTUVWXYZ23456789" // no 0/O, 1/I/L to mistake
)

var errNoCourse = errs.NotFound("not_found", "No such course, or you are not in it.")

// courseCols reads a course as the member bound to the first ? sees it.
const courseCols = `SELECT c.id, c.name, c.description, c.owner_id, c.created_at, c.join_code, c.lti_platform_id, c.lti_context_id, m.role,
	(SELECT COUNT(*) FROM course_members s WHERE s.course_id = c.id AND s.role = 'student') AS student_count,
	(SELECT COUNT(*) FROM assignments a WHERE a.course_id = c.id AND (a.published OR m.role <> 'student')) AS assignment_count
	FROM courses c JOIN course_members m ON m.course_id = c.id AND m.user_id = ?`

// shown fills in what the member's role lets them see.
func shown(c *Course) *Course {
	if c.PlatformID != "" {
		c.LTI = &LTILink{PlatformID: c.PlatformID, ContextID: c.ContextID}
	}
	if c.Role != Teacher {
		c.JoinCode = ""
	}
	return c
}

// member returns course id as actor sees it; a stranger is told it does
// not exist.
func (s *Service) member(ctx context.Context, actor *auth.User, id string) (*Course, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	var c Course
	err := s.db.Get(ctx, &c, courseCols+` WHERE c.id = ?`, actor.ID, id)
	if store.NoRows(err) {
		return nil, errNoCourse
	}
	if err != nil {
		return nil, fmt.Errorf("get course: %w", err)
	}
	return shown(&c), nil
}

// as returns the course when actor holds one of roles in it.
func (s *Service) as(ctx context.Context, actor *auth.User, id string, roles ...Role) (*Course, error) {
	c, err := s.member(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if c.Role == r {
			return c, nil
		}
	}
	if len(roles) == 1 && roles[0] == Teacher {
		return nil, errs.Forbidden("forbidden", "Only the course's teachers can do this.")
	}
	return nil, errs.Forbidden("forbidden", "Your role in this course does not allow this.")
}

// Courses lists actor's courses, whatever their role.
func (s *Service) Courses(ctx context.Context, actor *auth.User) ([]*Course, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	out := []*Course{}
	if err := s.db.Select(ctx, &out, courseCols+` ORDER BY c.created_at DESC, c.id`, actor.ID); err != nil {
		return nil, fmt.Errorf("list courses: %w", err)
	}
	for _, c := range out {
		shown(c)
	}
	return out, nil
}

func checkCourseText(name, description string) (string, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxCourseName || strings.ContainsAny(name, "\x00\n\r") {
		return "", "", errs.Invalid("invalid_name", "A course name is 1 to %d characters on one line.", maxCourseName)
	}
	if utf8.RuneCountInString(description) > maxDescription {
		return "", "", errs.Invalid("invalid_description", "A course description is at most %d characters.", maxDescription)
	}
	return name, description, nil
}

// Create makes a course owned by actor, who becomes its first teacher.
func (s *Service) Create(ctx context.Context, actor *auth.User, name, description string) (*Course, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	name, description, err := checkCourseText(name, description)
	if err != nil {
		return nil, err
	}
	id, err := s.insertCourse(ctx, actor, name, description, ContextLink{})
	if err != nil {
		return nil, err
	}
	return s.member(ctx, actor, id)
}

// insertCourse writes a course and its owner's membership; a link's pair
// already taken is a unique error the caller sees.
func (s *Service) insertCourse(ctx context.Context, owner *auth.User, name, description string, link ContextLink) (string, error) {
	id, now := store.NewID(), store.Now()
	err := s.db.Tx(ctx, func(q store.Q) error {
		if _, err := q.Exec(ctx, `INSERT INTO courses (id, name, description, owner_id, join_code, lti_platform_id, lti_context_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, name, description, owner.ID, newJoinCode(), link.PlatformID, link.ContextID, now, now); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO course_members (course_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`, id, owner.ID, Teacher, now)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("insert course: %w", err)
	}
	slog.InfoContext(ctx, "course created", "course_id", id, "owner", owner.Username)
	s.audit.Record(ctx, owner.AuditActor(), "course.create", audit.Target("course", id), map[string]any{"name": name})
	return id, nil
}

// Update changes a course's name or description (nil leaves it).
func (s *Service) Update(ctx context.Context, actor *auth.User, id string, name, description *string) (*Course, error) {
	c, err := s.as(ctx, actor, id, Teacher)
	if err != nil {
		return nil, err
	}
	if name == nil {
		name = &c.Name
	}
	if description == nil {
		description = &c.Description
	}
	n, d, err := checkCourseText(*name, *description)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Exec(ctx, `UPDATE courses SET name = ?, description = ?, updated_at = ? WHERE id = ?`, n, d, store.Now(), id); err != nil {
		return nil, fmt.Errorf("update course: %w", err)
	}
	return s.member(ctx, actor, id)
}

// Delete removes a course, its assignments, submissions and their files;
// only its owner can. Students' and teachers' projects stay theirs.
func (s *Service) Delete(ctx context.Context, actor *auth.User, id string) error {
	c, err := s.member(ctx, actor, id)
	if err != nil {
		return err
	}
	if c.OwnerID != actor.ID {
		return errs.Forbidden("forbidden", "Only the course's owner can delete it.")
	}
	return s.deleteCourse(ctx, actor, id)
}

func (s *Service) deleteCourse(ctx context.Context, actor *auth.User, id string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM courses WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete course: %w", err)
	}
	s.removeDir(s.submissionDir(id, ""))
	slog.InfoContext(ctx, "course deleted", "course_id", id)
	s.audit.Record(ctx, actor.AuditActor(), "course.delete", audit.Target("course", id), nil)
	return nil
}

// newJoinCode draws 8 characters from an alphabet without look-alikes
// (about 40 bits).
func newJoinCode() string {
	b := make([]byte, joinCodeLen)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	for i := range b {
		b[i] = joinCodeLetters[int(b[i])%len(joinCodeLetters)]
	}
	return string(b)
}

// RotateJoinCode gives the course a new join code; the old one stops
// working.
func (s *Service) RotateJoinCode(ctx context.Context, actor *auth.User, id string) (string, error) {
	if _, err := s.as(ctx, actor, id, Teacher); err != nil {
		return "", err
	}
	code := newJoinCode()
	if _, err := s.db.Exec(ctx, `UPDATE courses SET join_code = ?, updated_at = ? WHERE id = ?`, code, store.Now(), id); err != nil {
		return "", fmt.Errorf("rotate join code: %w", err)
	}
	return code, nil
}

// Join puts actor in the course whose join code is code, as a student;
// a member already is left in their role.
func (s *Service) Join(ctx context.Context, actor *auth.User, code string) (*Course, error) {
	if actor == nil {
		return nil, auth.ErrUnauthenticated
	}
	code = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	var id string
	err := s.db.Get(ctx, &id, `SELECT id FROM courses WHERE join_code = ?`, code)
	if store.NoRows(err) || len(code) != joinCodeLen {
		return nil, errs.NotFound("invalid_code", "No course has this join code; ask your teacher for the current one.")
	}
	if err != nil {
		return nil, fmt.Errorf("find course by code: %w", err)
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO course_members (course_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (course_id, user_id) DO NOTHING`, id, actor.ID, Student, store.Now()); err != nil {
		return nil, fmt.Errorf("join course: %w", err)
	}
	return s.member(ctx, actor, id)
}

// Member is a person in a course.
type Member struct {
	UserID      string `json:"userId" db:"user_id"`
	Username    string `json:"username" db:"username"`
	DisplayName string `json:"displayName" db:"-"` // accounts have no other name yet
	Role        Role   `json:"role" db:"role"`
	JoinedAt    int64  `json:"joinedAt" db:"joined_at"`
}

const memberCols = `SELECT m.user_id, u.username, m.role, m.joined_at FROM course_members m JOIN users u ON u.id = m.user_id`

// Members lists the course's people (teachers and TAs only).
func (s *Service) Members(ctx context.Context, actor *auth.User, id string) ([]Member, error) {
	if _, err := s.as(ctx, actor, id, Teacher, Assistant); err != nil {
		return nil, err
	}
	return s.members(ctx, id)
}

func (s *Service) members(ctx context.Context, id string) ([]Member, error) {
	out := []Member{}
	if err := s.db.Select(ctx, &out, memberCols+` WHERE m.course_id = ? ORDER BY m.role DESC, u.username`, id); err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	for i := range out {
		out[i].DisplayName = out[i].Username
	}
	return out, nil
}

func checkRole(r Role) error {
	if !r.valid() {
		return errs.Invalid("invalid_role", "A course role is %q, %q or %q.", Teacher, Assistant, Student)
	}
	return nil
}

// AddMember puts the account username in the course with role.
func (s *Service) AddMember(ctx context.Context, actor *auth.User, id, username string, role Role) (*Member, error) {
	if _, err := s.as(ctx, actor, id, Teacher); err != nil {
		return nil, err
	}
	if err := checkRole(role); err != nil {
		return nil, err
	}
	u, err := s.accounts.UserByUsername(ctx, strings.ToLower(strings.TrimSpace(username)))
	if errs.Is(err, errs.KindNotFound) {
		return nil, errs.NotFound("no_user", "No account is called %q.", username)
	}
	if err != nil {
		return nil, err
	}
	_, err = s.db.Exec(ctx, `INSERT INTO course_members (course_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)`, id, u.ID, role, store.Now())
	if store.IsUnique(err) {
		return nil, errs.Conflict("already_member", "%s is already in this course; change their role instead.", u.Username)
	}
	if err != nil {
		return nil, fmt.Errorf("add member: %w", err)
	}
	s.audit.Record(ctx, actor.AuditActor(), "course.member.add", audit.Target("course", id), map[string]any{"user": u.Username, "role": role})
	return s.memberOf(ctx, id, u.ID)
}

func (s *Service) memberOf(ctx context.Context, courseID, userID string) (*Member, error) {
	var m Member
	err := s.db.Get(ctx, &m, memberCols+` WHERE m.course_id = ? AND m.user_id = ?`, courseID, userID)
	if store.NoRows(err) {
		return nil, errs.NotFound("not_member", "That person is not in this course.")
	}
	if err != nil {
		return nil, fmt.Errorf("get member: %w", err)
	}
	m.DisplayName = m.Username
	return &m, nil
}

// SetRole changes a member's role; the owner stays a teacher.
func (s *Service) SetRole(ctx context.Context, actor *auth.User, id, userID string, role Role) (*Member, error) {
	c, err := s.as(ctx, actor, id, Teacher)
	if err != nil {
		return nil, err
	}
	if err := checkRole(role); err != nil {
		return nil, err
	}
	if userID == c.OwnerID && role != Teacher {
		return nil, errs.Conflict("owner_role", "The course's owner is always one of its teachers.")
	}
	m, err := s.memberOf(ctx, id, userID)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.Exec(ctx, `UPDATE course_members SET role = ? WHERE course_id = ? AND user_id = ?`, role, id, userID); err != nil {
		return nil, fmt.Errorf("set role: %w", err)
	}
	s.audit.Record(ctx, actor.AuditActor(), "course.member.role", audit.Target("course", id), map[string]any{"user": m.Username, "role": role})
	m.Role = role
	return m, nil
}

// RemoveMember takes a person out of the course (their projects and
// submissions stay); the owner cannot be removed.
func (s *Service) RemoveMember(ctx context.Context, actor *auth.User, id, userID string) error {
	c, err := s.as(ctx, actor, id, Teacher)
	if err != nil {
		return err
	}
	if userID == c.OwnerID {
		return errs.Conflict("owner_role", "The course's owner cannot be removed; the owner can delete the course.")
	}
	m, err := s.memberOf(ctx, id, userID)
	if err != nil {
		return err
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM course_members WHERE course_id = ? AND user_id = ?`, id, userID); err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	s.audit.Record(ctx, actor.AuditActor(), "course.member.remove", audit.Target("course", id), map[string]any{"user": m.Username})
	return nil
}

// CourseOf returns a course as the platform sees it (no member's role):
// for the LTI capability, which authorizes on its own.
func (s *Service) CourseOf(ctx context.Context, courseID string) (*Course, error) {
	var c Course
	err := s.db.Get(ctx, &c, `SELECT c.id, c.name, c.description, c.owner_id, c.created_at, c.join_code, c.lti_platform_id, c.lti_context_id,
		(SELECT COUNT(*) FROM course_members s WHERE s.course_id = c.id AND s.role = 'student') AS student_count,
		(SELECT COUNT(*) FROM assignments a WHERE a.course_id = c.id) AS assignment_count
		FROM courses c WHERE c.id = ?`, courseID)
	if store.NoRows(err) {
		return nil, errs.NotFound("not_found", "No such course.")
	}
	if err != nil {
		return nil, fmt.Errorf("get course: %w", err)
	}
	if c.PlatformID != "" {
		c.LTI = &LTILink{PlatformID: c.PlatformID, ContextID: c.ContextID}
	}
	return &c, nil
}

// Role is userID's role in the course; NotFound when not a member.
func (s *Service) Role(ctx context.Context, courseID, userID string) (Role, error) {
	var r Role
	err := s.db.Get(ctx, &r, `SELECT role FROM course_members WHERE course_id = ? AND user_id = ?`, courseID, userID)
	if store.NoRows(err) {
		return "", errs.NotFound("not_member", "Not a member of this course.")
	}
	if err != nil {
		return "", fmt.Errorf("get role: %w", err)
	}
	return r, nil
}

// LinkContext returns the course that mirrors an LMS context, creating it
// (owned by by) the first time.
func (s *Service) LinkContext(ctx context.Context, by *auth.User, link ContextLink) (*Course, error) {
	if by == nil {
		return nil, auth.ErrUnauthenticated
	}
	if link.PlatformID == "" || link.ContextID == "" {
		return nil, errs.Invalid("invalid_context", "An LMS course needs its platform and context ids.")
	}
	find := func() (string, error) {
		var id string
		err := s.db.Get(ctx, &id, `SELECT id FROM courses WHERE lti_platform_id = ? AND lti_context_id = ?`, link.PlatformID, link.ContextID)
		return id, err
	}
	id, err := find()
	if store.NoRows(err) {
		name := strings.TrimSpace(link.Title)
		if name == "" {
			name = "LMS course " + link.ContextID
		}
		if utf8.RuneCountInString(name) > maxCourseName {
			name = string([]rune(name)[:maxCourseName])
		}
		id, err = s.insertCourse(ctx, by, name, "", link)
		if err != nil && store.IsUnique(err) {
			id, err = find() // another launch linked it first
		}
	}
	if err != nil {
		return nil, fmt.Errorf("link LMS course: %w", err)
	}
	return s.CourseOf(ctx, id)
}

// Enroll puts u in the course with role, or changes u's role to it. The
// owner stays a teacher.
func (s *Service) Enroll(ctx context.Context, courseID string, u *auth.User, role Role) error {
	if err := checkRole(role); err != nil {
		return err
	}
	c, err := s.CourseOf(ctx, courseID)
	if err != nil {
		return err
	}
	if u.ID == c.OwnerID {
		return nil
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO course_members (course_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (course_id, user_id) DO UPDATE SET role = excluded.role`, courseID, u.ID, role, store.Now()); err != nil {
		return fmt.Errorf("enroll %s: %w", u.Username, err)
	}
	return nil
}
