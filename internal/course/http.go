package course

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/httpx"
	"ecode/internal/store"
)

// Routes registers the courses API.
func (s *Service) Routes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/courses", s.list)
	rt.HandleFunc("POST /api/courses", s.create)
	rt.HandleFunc("POST /api/courses/join", s.join)
	rt.HandleFunc("GET /api/courses/{id}", s.get)
	rt.HandleFunc("PATCH /api/courses/{id}", s.update)
	rt.HandleFunc("DELETE /api/courses/{id}", s.remove)
	rt.HandleFunc("POST /api/courses/{id}/join-code", s.rotate)
	rt.HandleFunc("GET /api/courses/{id}/members", s.listMembers)
	rt.HandleFunc("POST /api/courses/{id}/members", s.addMember)
	rt.HandleFunc("PATCH /api/courses/{id}/members/{user}", s.setRole)
	rt.HandleFunc("DELETE /api/courses/{id}/members/{user}", s.removeMember)
	rt.HandleFunc("GET /api/courses/{id}/assignments", s.listAssignments)
	rt.HandleFunc("POST /api/courses/{id}/assignments", s.createAssignment)
	rt.HandleFunc("GET /api/courses/{id}/assignments/{aid}", s.getAssignment)
	rt.HandleFunc("PATCH /api/courses/{id}/assignments/{aid}", s.updateAssignment)
	rt.HandleFunc("DELETE /api/courses/{id}/assignments/{aid}", s.deleteAssignment)
	rt.HandleFunc("POST /api/courses/{id}/assignments/{aid}/start", s.start)
	rt.HandleFunc("POST /api/courses/{id}/assignments/{aid}/check", s.check)
	rt.HandleFunc("POST /api/courses/{id}/assignments/{aid}/submit", s.submit)
	rt.HandleFunc("GET /api/courses/{id}/assignments/{aid}/submissions", s.listSubmissions)
	rt.HandleFunc("GET /api/courses/{id}/assignments/{aid}/similarity", s.similarity)
	rt.HandleFunc("GET /api/courses/{id}/submissions/{sid}", s.getSubmission)
	rt.HandleFunc("GET /api/courses/{id}/submissions/{sid}/files", s.files)
	rt.HandleFunc("GET /api/courses/{id}/submissions/{sid}/files/{path...}", s.file)
	rt.HandleFunc("POST /api/courses/{id}/submissions/{sid}/grade", s.gradeByHand)
	rt.HandleFunc("POST /api/courses/{id}/submissions/{sid}/regrade", s.regrade)
	rt.HandleFunc("GET /api/courses/{id}/progress", s.progress)
	rt.HandleFunc("GET /api/courses/{id}/progress.csv", s.progressCSV)
	rt.HandleFunc("GET /api/projects/{id}/assignment", s.projectAssignment)
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	list, err := s.Courses(r.Context(), auth.Actor(r))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"courses": list}, err)
}

func (s *Service) create(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name, Description string }
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := s.Create(r.Context(), auth.Actor(r), in.Name, in.Description)
	httpx.Reply(w, r, http.StatusCreated, map[string]any{"course": c}, err)
}

func (s *Service) join(w http.ResponseWriter, r *http.Request) {
	var in struct{ Code string }
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := s.Join(r.Context(), auth.Actor(r), in.Code)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"course": c}, err)
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	c, err := s.member(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"course": c}, err)
}

func (s *Service) update(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name, Description *string }
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	c, err := s.Update(r.Context(), auth.Actor(r), r.PathValue("id"), in.Name, in.Description)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"course": c}, err)
}

func (s *Service) remove(w http.ResponseWriter, r *http.Request) {
	httpx.NoContent(w, r, s.Delete(r.Context(), auth.Actor(r), r.PathValue("id")))
}

func (s *Service) rotate(w http.ResponseWriter, r *http.Request) {
	code, err := s.RotateJoinCode(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"joinCode": code}, err)
}

func (s *Service) listMembers(w http.ResponseWriter, r *http.Request) {
	list, err := s.Members(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"members": list}, err)
}

func (s *Service) addMember(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string
		Role     Role
	}
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	m, err := s.AddMember(r.Context(), auth.Actor(r), r.PathValue("id"), in.Username, in.Role)
	httpx.Reply(w, r, http.StatusCreated, map[string]any{"member": m}, err)
}

func (s *Service) setRole(w http.ResponseWriter, r *http.Request) {
	var in struct{ Role Role }
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	m, err := s.SetRole(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("user"), in.Role)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"member": m}, err)
}

func (s *Service) removeMember(w http.ResponseWriter, r *http.Request) {
	httpx.NoContent(w, r, s.RemoveMember(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("user")))
}

func (s *Service) listAssignments(w http.ResponseWriter, r *http.Request) {
	list, err := s.Assignments(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"assignments": list}, err)
}

func (s *Service) createAssignment(w http.ResponseWriter, r *http.Request) {
	var in AssignmentInput
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	a, err := s.CreateAssignment(r.Context(), auth.Actor(r), r.PathValue("id"), in)
	httpx.Reply(w, r, http.StatusCreated, map[string]any{"assignment": a}, err)
}

func (s *Service) getAssignment(w http.ResponseWriter, r *http.Request) {
	a, err := s.Get(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("aid"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"assignment": a}, err)
}

func (s *Service) updateAssignment(w http.ResponseWriter, r *http.Request) {
	var in AssignmentInput
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	if in.Template != "" || in.ProjectID != "" {
		httpx.Error(w, r, errs.Invalid("invalid_starter", "The starter project is made once, when the assignment is created; edit that project instead."))
		return
	}
	a, err := s.UpdateAssignment(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("aid"), in)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"assignment": a}, err)
}

func (s *Service) deleteAssignment(w http.ResponseWriter, r *http.Request) {
	httpx.NoContent(w, r, s.DeleteAssignment(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("aid")))
}

func (s *Service) start(w http.ResponseWriter, r *http.Request) {
	p, err := s.StartCopy(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("aid"))
	var out any
	if err == nil {
		out = map[string]any{"project": map[string]string{"id": p.ID, "slug": p.Slug, "owner": p.Owner, "name": p.Name}}
	}
	httpx.Reply(w, r, http.StatusOK, out, err)
}

func (s *Service) check(w http.ResponseWriter, r *http.Request) {
	res, err := s.Check(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("aid"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"result": res}, err)
}

func (s *Service) submit(w http.ResponseWriter, r *http.Request) {
	sub, err := s.Submit(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("aid"))
	httpx.Reply(w, r, http.StatusAccepted, map[string]any{"submission": sub}, err)
}

func (s *Service) listSubmissions(w http.ResponseWriter, r *http.Request) {
	list, err := s.Submissions(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("aid"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"submissions": list}, err)
}

func (s *Service) similarity(w http.ResponseWriter, r *http.Request) {
	pairs, err := s.Similarity(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("aid"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"pairs": pairs, "threshold": SimilarityThreshold}, err)
}

func (s *Service) getSubmission(w http.ResponseWriter, r *http.Request) {
	sub, err := s.Submission(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("sid"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"submission": sub}, err)
}

func (s *Service) files(w http.ResponseWriter, r *http.Request) {
	list, err := s.Files(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("sid"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"files": list}, err)
}

func (s *Service) file(w http.ResponseWriter, r *http.Request) {
	b, err := s.File(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("sid"), r.PathValue("path"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	ctype := "application/octet-stream"
	if utf8.Valid(b) {
		ctype = "text/plain; charset=utf-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

func (s *Service) gradeByHand(w http.ResponseWriter, r *http.Request) {
	var in GradeInput
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	sub, err := s.GradeByHand(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("sid"), in)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"submission": sub}, err)
}

func (s *Service) regrade(w http.ResponseWriter, r *http.Request) {
	sub, err := s.Regrade(r.Context(), auth.Actor(r), r.PathValue("id"), r.PathValue("sid"))
	httpx.Reply(w, r, http.StatusAccepted, map[string]any{"submission": sub}, err)
}

func (s *Service) progress(w http.ResponseWriter, r *http.Request) {
	p, err := s.Progress(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, p, err)
}

func (s *Service) progressCSV(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := s.ProgressCSV(r.Context(), auth.Actor(r), r.PathValue("id"), &buf); err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="progress.csv"`)
	_, _ = w.Write(buf.Bytes())
}

func (s *Service) projectAssignment(w http.ResponseWriter, r *http.Request) {
	c, a, err := s.ProjectAssignment(r.Context(), auth.Actor(r), r.PathValue("id"))
	var out any
	if err == nil {
		out = map[string]any{"course": map[string]string{"id": c.ID, "name": c.Name}, "assignment": a}
	}
	httpx.Reply(w, r, http.StatusOK, out, err)
}

// ProjectAssignment finds the assignment a project belongs to: the
// student's own copy (their view), or the starter (the staff's view).
func (s *Service) ProjectAssignment(ctx context.Context, actor *auth.User, projectID string) (*Course, *Assignment, error) {
	if actor == nil {
		return nil, nil, auth.ErrUnauthenticated
	}
	// Those who may not see the project learn nothing of it.
	if _, err := s.projects.Get(ctx, actor, projectID, access.Read); err != nil {
		return nil, nil, err
	}
	notOne := errs.NotFound("not_found", "This project is not part of an assignment of yours.")
	var ref struct {
		CourseID     string `db:"course_id"`
		AssignmentID string `db:"id"`
	}
	err := s.db.Get(ctx, &ref, `SELECT a.course_id, a.id FROM assignment_copies ac JOIN assignments a ON a.id = ac.assignment_id
		WHERE ac.project_id = ? AND ac.user_id = ?`, projectID, actor.ID)
	if store.NoRows(err) {
		err = s.db.Get(ctx, &ref, `SELECT course_id, id FROM assignments WHERE starter_project_id = ? ORDER BY created_at LIMIT 1`, projectID)
	}
	if store.NoRows(err) {
		return nil, nil, notOne
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find the project's assignment: %w", err)
	}
	c, a, err := s.reach(ctx, actor, ref.CourseID, ref.AssignmentID)
	if errs.Is(err, errs.KindNotFound) {
		return nil, nil, notOne
	}
	if err != nil {
		return nil, nil, err
	}
	if a.StarterProjectID == projectID && !c.Role.staff() {
		return nil, nil, notOne
	}
	v, err := s.forRole(ctx, a, c.Role, actor.ID)
	return c, v, err
}
