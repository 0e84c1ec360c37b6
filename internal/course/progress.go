package course

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"ecode/internal/auth"
)

// Progress is the grid of students × assignments.
type Progress struct {
	Assignments []ProgressAssignment `json:"assignments"`
	Students    []ProgressRow        `json:"students"`
}

// ProgressAssignment is a column of the grid.
type ProgressAssignment struct {
	ID       string  `json:"id"`
	Title    string  `json:"title"`
	DueAt    *int64  `json:"dueAt"`
	MaxScore float64 `json:"maxScore"`
}

// ProgressRow is one student's line.
type ProgressRow struct {
	UserID      string `json:"userId"`
	Username    string `json:"username"`
	DisplayName string `json:"displayName"`
	Cells       []Cell `json:"cells"`
}

// Cell is a student's standing on one assignment: the best graded
// submission's score, or how far they got.
type Cell struct {
	AssignmentID string   `json:"assignmentId"`
	State        string   `json:"state"` // not_started, in_progress, submitted, graded
	Score        *float64 `json:"score"`
	MaxScore     float64  `json:"maxScore"`
	Late         bool     `json:"late"`
	SubmissionID *string  `json:"submissionId"`
}

// Progress returns the course's grid: every student for the staff, the
// caller alone for a student.
func (s *Service) Progress(ctx context.Context, actor *auth.User, courseID string) (*Progress, error) {
	c, err := s.member(ctx, actor, courseID)
	if err != nil {
		return nil, err
	}
	list, err := s.Assignments(ctx, actor, courseID)
	if err != nil {
		return nil, err
	}
	members, err := s.members(ctx, courseID)
	if err != nil {
		return nil, err
	}
	var copies []struct {
		AssignmentID string `db:"assignment_id"`
		UserID       string `db:"user_id"`
	}
	if err := s.db.Select(ctx, &copies, `SELECT ac.assignment_id, ac.user_id FROM assignment_copies ac
		JOIN assignments a ON a.id = ac.assignment_id WHERE a.course_id = ?`, courseID); err != nil {
		return nil, fmt.Errorf("list assignment copies: %w", err)
	}
	var subs []struct {
		ID           string   `db:"id"`
		AssignmentID string   `db:"assignment_id"`
		UserID       string   `db:"user_id"`
		Score        *float64 `db:"score"`
		Late         bool     `db:"late"`
	}
	if err := s.db.Select(ctx, &subs, `SELECT id, assignment_id, user_id, score, late FROM submissions WHERE course_id = ?
		ORDER BY submitted_at DESC, id DESC`, courseID); err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	type key struct{ assignment, user string }
	cells := map[key]*Cell{}
	for _, cp := range copies {
		cells[key{cp.AssignmentID, cp.UserID}] = &Cell{State: "in_progress"}
	}
	for _, sub := range subs { // newest first
		k := key{sub.AssignmentID, sub.UserID}
		cell := cells[k]
		if cell == nil {
			cell = &Cell{}
			cells[k] = cell
		}
		if cell.State != "submitted" && cell.State != "graded" {
			cell.State, cell.Late, cell.SubmissionID = "submitted", sub.Late, &sub.ID
		}
		if sub.Score != nil && (cell.Score == nil || *sub.Score > *cell.Score) {
			cell.State, cell.Score, cell.Late, cell.SubmissionID = "graded", sub.Score, sub.Late, &sub.ID
		}
	}
	out := &Progress{Assignments: make([]ProgressAssignment, len(list)), Students: []ProgressRow{}}
	for i, a := range list {
		out.Assignments[i] = ProgressAssignment{ID: a.ID, Title: a.Title, DueAt: a.DueAt, MaxScore: a.MaxScore}
	}
	for _, m := range members {
		if m.Role != Student || !c.Role.staff() && m.UserID != actor.ID {
			continue
		}
		row := ProgressRow{UserID: m.UserID, Username: m.Username, DisplayName: m.DisplayName, Cells: make([]Cell, len(list))}
		for i, a := range list {
			cell := Cell{State: "not_started"}
			if found := cells[key{a.ID, m.UserID}]; found != nil {
				cell = *found
			}
			cell.AssignmentID, cell.MaxScore = a.ID, a.MaxScore
			row.Cells[i] = cell
		}
		out.Students = append(out.Students, row)
	}
	return out, nil
}

// ProgressCSV writes the staff's grid as CSV: username, display name, a
// column per assignment (the score, or the state when there is none) and
// the total of the scores.
func (s *Service) ProgressCSV(ctx context.Context, actor *auth.User, courseID string, w io.Writer) error {
	if _, err := s.as(ctx, actor, courseID, Teacher, Assistant); err != nil {
		return err
	}
	p, err := s.Progress(ctx, actor, courseID)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := []string{"username", "display name"}
	for _, a := range p.Assignments {
		head = append(head, csvSafe(a.Title))
	}
	if err := cw.Write(append(head, "total")); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	for _, st := range p.Students {
		line := []string{st.Username, st.DisplayName}
		total := 0.0
		for _, c := range st.Cells {
			if c.Score != nil {
				total += *c.Score
				line = append(line, strconv.FormatFloat(*c.Score, 'f', -1, 64))
			} else {
				line = append(line, c.State)
			}
		}
		if err := cw.Write(append(line, strconv.FormatFloat(round2(total), 'f', -1, 64))); err != nil {
			return fmt.Errorf("write CSV: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}

// csvSafe keeps a spreadsheet from reading a title as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
