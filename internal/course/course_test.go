package course_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ecode/internal/config"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

type course struct {
	ID              string          `json:"id"`
	Name            string          `json:"name"`
	Role            string          `json:"role"`
	JoinCode        string          `json:"joinCode"`
	OwnerID         string          `json:"ownerId"`
	StudentCount    int             `json:"studentCount"`
	AssignmentCount int             `json:"assignmentCount"`
	LTI             json.RawMessage `json:"lti"`
}

type testResult struct {
	Name      string `json:"name"`
	Hidden    bool   `json:"hidden"`
	Passed    bool   `json:"passed"`
	Points    int    `json:"points"`
	MaxPoints int    `json:"maxPoints"`
	Message   string `json:"message"`
	Output    string `json:"output"`
}

type result struct {
	Tests     []testResult `json:"tests"`
	Points    int          `json:"points"`
	MaxPoints int          `json:"maxPoints"`
	Reason    string       `json:"reason"`
}

type submission struct {
	ID             string   `json:"id"`
	UserID         string   `json:"userId"`
	Username       string   `json:"username"`
	Number         int      `json:"number"`
	Status         string   `json:"status"`
	Late           bool     `json:"late"`
	DaysLate       int      `json:"daysLate"`
	PenaltyPercent float64  `json:"penaltyPercent"`
	AutoScore      *float64 `json:"autoScore"`
	Score          *float64 `json:"score"`
	MaxScore       float64  `json:"maxScore"`
	Feedback       string   `json:"feedback"`
	Result         *result  `json:"result"`
	Reason         string   `json:"reason"`
}

type assignment struct {
	ID               string `json:"id"`
	Title            string `json:"title"`
	StarterProjectID string `json:"starterProjectId"`
	HiddenTests      int    `json:"hiddenTests"`
	Tests            []struct {
		Path   string `json:"path"`
		Hidden bool   `json:"hidden"`
	} `json:"tests"`
	MaxScore float64 `json:"maxScore"`
	Mine     *struct {
		ProjectID   *string     `json:"projectId"`
		State       string      `json:"state"`
		Submissions int         `json:"submissions"`
		Latest      *submission `json:"latest"`
	} `json:"mine"`
}

func newCourse(t *testing.T, c *testserver.Client, name string) course {
	t.Helper()
	var out struct{ Course course }
	c.Post(t, "/api/courses", map[string]string{"name": name}).WantStatus(t, http.StatusCreated).Decode(t, &out)
	return out.Course
}

func join(t *testing.T, c *testserver.Client, code string) course {
	t.Helper()
	var out struct{ Course course }
	c.Post(t, "/api/courses/join", map[string]string{"code": code}).WantStatus(t, http.StatusOK).Decode(t, &out)
	return out.Course
}

func eventually(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCoursesAndRoles(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		teacher, ta, student, stranger := s.SignUp(t, "tess"), s.SignUp(t, "tim"), s.SignUp(t, "stu"), s.SignUp(t, "sam")
		c := newCourse(t, teacher, "Intro to Programming")
		if c.Role != "teacher" || len(c.JoinCode) != 8 || c.OwnerID != teacher.User.ID || string(c.LTI) != "null" {
			t.Fatalf("new course: %+v", c)
		}
		base := "/api/courses/" + c.ID

		// Codes are case-insensitive; a student never sees the code.
		joined := join(t, student, strings.ToLower(c.JoinCode[:4])+"-"+strings.ToLower(c.JoinCode[4:]))
		if joined.ID != c.ID || joined.Role != "student" || joined.JoinCode != "" {
			t.Fatalf("joined: %+v", joined)
		}
		teacher.Post(t, base+"/members", map[string]string{"username": "tim", "role": "ta"}).WantStatus(t, http.StatusCreated)
		teacher.Post(t, base+"/members", map[string]string{"username": "tim", "role": "ta"}).WantError(t, http.StatusConflict, "already_member")

		var got struct{ Course course }
		teacher.Get(t, base).WantStatus(t, http.StatusOK).Decode(t, &got)
		if got.Course.StudentCount != 1 {
			t.Fatalf("student count: %+v", got.Course)
		}

		// Strangers do not learn the course exists; roles bound the rest.
		stranger.Get(t, base).WantError(t, http.StatusNotFound, "not_found")
		stranger.Get(t, base+"/assignments").WantError(t, http.StatusNotFound, "not_found")
		ta.Patch(t, base, map[string]string{"name": "Renamed"}).WantStatus(t, http.StatusForbidden)
		ta.Post(t, base+"/join-code", nil).WantStatus(t, http.StatusForbidden)
		ta.Post(t, base+"/members", map[string]string{"username": "sam", "role": "student"}).WantStatus(t, http.StatusForbidden)
		ta.Post(t, base+"/assignments", map[string]any{"title": "X", "runner": "unittest"}).WantStatus(t, http.StatusForbidden)
		student.Get(t, base+"/members").WantStatus(t, http.StatusForbidden)
		student.Get(t, base+"/progress.csv").WantStatus(t, http.StatusForbidden)
		ta.Delete(t, base).WantStatus(t, http.StatusForbidden)

		var members struct {
			Members []struct{ Username, Role string }
		}
		ta.Get(t, base+"/members").WantStatus(t, http.StatusOK).Decode(t, &members)
		if len(members.Members) != 3 {
			t.Fatalf("members: %+v", members)
		}

		// A co-teacher may change settings; nobody removes the owner.
		teacher.Patch(t, base+"/members/"+ta.User.ID, map[string]string{"role": "teacher"}).WantStatus(t, http.StatusOK)
		ta.Patch(t, base, map[string]string{"name": "Renamed"}).WantStatus(t, http.StatusOK)
		ta.Delete(t, base+"/members/"+teacher.User.ID).WantError(t, http.StatusConflict, "owner_role")
		ta.Delete(t, base).WantStatus(t, http.StatusForbidden) // only the owner deletes

		// A rotated code replaces the old one.
		var code struct{ JoinCode string }
		teacher.Post(t, base+"/join-code", nil).WantStatus(t, http.StatusOK).Decode(t, &code)
		stranger.Post(t, "/api/courses/join", map[string]string{"code": c.JoinCode}).WantError(t, http.StatusNotFound, "invalid_code")
		join(t, stranger, code.JoinCode)

		teacher.Delete(t, base+"/members/"+stranger.User.ID).WantStatus(t, http.StatusNoContent)
		stranger.Get(t, base).WantStatus(t, http.StatusNotFound)

		var mine struct{ Courses []course }
		student.Get(t, "/api/courses").WantStatus(t, http.StatusOK).Decode(t, &mine)
		if len(mine.Courses) != 1 || mine.Courses[0].Name != "Renamed" {
			t.Fatalf("student's courses: %+v", mine)
		}
		teacher.Delete(t, base).WantStatus(t, http.StatusNoContent)
		student.Get(t, base).WantStatus(t, http.StatusNotFound)

		var actions []string
		if err := s.App.DB.Select(t.Context(), &actions, `SELECT action FROM audit_log WHERE target = ? ORDER BY seq`, "course:"+c.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"course.create", "course.member.add", "course.member.role", "course.member.remove", "course.delete"}
		if !slices.Equal(actions, want) {
			t.Fatalf("audit log: %q, want %q", actions, want)
		}
	})
}

// The assignment of most tests: add(a, b) in solution.py, one visible and
// one hidden unittest file; the hidden one holds a marker nothing a
// student is sent may contain.
func pythonAssignment(marker string) map[string]any {
	return map[string]any{
		"title":        "Add two numbers",
		"instructions": "Write `add(a, b)` in solution.py.",
		"template":     "blank",
		"runner":       "unittest",
		"points":       10,
		"published":    true,
		"tests": []map[string]any{
			{"path": "test_visible.py", "content": "import unittest\nfrom solution import add\n\nclass Visible(unittest.TestCase):\n    def test_small(self):\n        self.assertEqual(add(1, 2), 3)\n"},
			{"path": "test_hidden.py", "hidden": true, "content": "import unittest\nfrom solution import add\n\n# " + marker + "\nclass Hidden(unittest.TestCase):\n    def test_big(self):\n        self.assertEqual(add(40, 2), 42, '" + marker + "')\n\n    def test_negative(self):\n        self.assertEqual(add(-1, -1), -2, '" + marker + "')\n"},
		},
		"rubric": []map[string]any{{"id": "style", "title": "Readable code", "points": 5}},
	}
}

func createAssignment(t *testing.T, c *testserver.Client, courseID string, body map[string]any) assignment {
	t.Helper()
	var out struct{ Assignment assignment }
	c.Post(t, "/api/courses/"+courseID+"/assignments", body).WantStatus(t, http.StatusCreated).Decode(t, &out)
	return out.Assignment
}

type projectRef struct{ ID, Slug, Owner, Name string }

func start(t *testing.T, c *testserver.Client, courseID, aid string) projectRef {
	t.Helper()
	var out struct{ Project projectRef }
	c.Post(t, "/api/courses/"+courseID+"/assignments/"+aid+"/start", nil).WantStatus(t, http.StatusOK).Decode(t, &out)
	return out.Project
}

func write(t *testing.T, c *testserver.Client, projectID, path, content string) {
	t.Helper()
	c.Put(t, "/api/projects/"+projectID+"/files/"+path, content).WantStatus(t, http.StatusNoContent)
}

func submit(t *testing.T, c *testserver.Client, courseID, aid string) submission {
	t.Helper()
	var out struct{ Submission submission }
	c.Post(t, "/api/courses/"+courseID+"/assignments/"+aid+"/submit", nil).WantStatus(t, http.StatusAccepted).Decode(t, &out)
	return out.Submission
}

// graded waits for a submission's grading to end, as c sees it.
func graded(t *testing.T, c *testserver.Client, courseID, sid string) (submission, string) {
	t.Helper()
	var sub submission
	var raw string
	eventually(t, 90*time.Second, "submission "+sid+" graded", func() bool {
		res := c.Get(t, "/api/courses/"+courseID+"/submissions/"+sid).WantStatus(t, http.StatusOK)
		var out struct{ Submission submission }
		res.Decode(t, &out)
		sub, raw = out.Submission, string(res.Body)
		return sub.Status == "graded" || sub.Status == "failed"
	})
	return sub, raw
}

func noMarker(t *testing.T, marker, what, body string) {
	t.Helper()
	if strings.Contains(body, marker) {
		t.Fatalf("%s shows the hidden test to the student: %s", what, body)
	}
}

func TestAssignmentLifecycle(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		teacher, student, ta := s.SignUp(t, "tess"), s.SignUp(t, "stu"), s.SignUp(t, "tim")
		c := newCourse(t, teacher, "CS 101")
		join(t, student, c.JoinCode)
		teacher.Post(t, "/api/courses/"+c.ID+"/members", map[string]string{"username": "tim", "role": "ta"}).WantStatus(t, http.StatusCreated)
		marker := "SECRET-" + store.NewID()
		a := createAssignment(t, teacher, c.ID, pythonAssignment(marker))
		if a.HiddenTests != 1 || len(a.Tests) != 2 || a.MaxScore != 15 {
			t.Fatalf("teacher's view: %+v", a)
		}
		base := "/api/courses/" + c.ID + "/assignments/" + a.ID

		// The starter holds the visible test and never the hidden one.
		var files struct{ Files []struct{ Path string } }
		teacher.Get(t, "/api/projects/"+a.StarterProjectID+"/files").WantStatus(t, http.StatusOK).Decode(t, &files)
		paths := []string{}
		for _, f := range files.Files {
			paths = append(paths, f.Path)
		}
		if !slices.Contains(paths, "test_visible.py") || slices.Contains(paths, "test_hidden.py") {
			t.Fatalf("starter files: %v", paths)
		}

		// Everything a student reads leaves the hidden test out.
		res := student.Get(t, "/api/courses/"+c.ID+"/assignments").WantStatus(t, http.StatusOK)
		noMarker(t, marker, "the assignment list", string(res.Body))
		res = student.Get(t, base).WantStatus(t, http.StatusOK)
		noMarker(t, marker, "the assignment", string(res.Body))
		var sv struct{ Assignment assignment }
		res.Decode(t, &sv)
		if sv.Assignment.HiddenTests != 1 || len(sv.Assignment.Tests) != 1 || sv.Assignment.Mine == nil || sv.Assignment.Mine.State != "not_started" {
			t.Fatalf("student's view: %+v", sv.Assignment)
		}
		student.Post(t, base+"/submit", nil).WantError(t, http.StatusConflict, "not_started")

		student.CreateProject(t, "Add two numbers") // the copy takes the next free slug
		p := start(t, student, c.ID, a.ID)
		if again := start(t, student, c.ID, a.ID); again.ID != p.ID || p.Owner != "stu" || p.Name != "Add two numbers" || p.Slug != "add-two-numbers-2" {
			t.Fatalf("start: %+v then %+v", p, again)
		}
		res = student.Get(t, "/api/projects/"+p.ID+"/assignment").WantStatus(t, http.StatusOK)
		noMarker(t, marker, "the workspace's assignment pane", string(res.Body))
		teacher.Get(t, "/api/projects/"+a.StarterProjectID+"/assignment").WantStatus(t, http.StatusOK)
		student.Get(t, "/api/projects/"+a.StarterProjectID+"/assignment").WantStatus(t, http.StatusNotFound)

		// A solution that is right for small numbers only: the visible
		// test passes, one hidden one fails.
		write(t, student, p.ID, "solution.py", "def add(a, b):\n    if a > 10:\n        return 0\n    return a + b\n")
		var check struct{ Result result }
		res = student.Post(t, base+"/check", nil).WantStatus(t, http.StatusOK)
		noMarker(t, marker, "check", string(res.Body))
		res.Decode(t, &check)
		if len(check.Result.Tests) != 1 || !check.Result.Tests[0].Passed || check.Result.Tests[0].Hidden {
			t.Fatalf("check: %s", res.Body)
		}

		sub := submit(t, student, c.ID, a.ID)
		if sub.Number != 1 || sub.Status != "queued" || sub.Late {
			t.Fatalf("submitted: %+v", sub)
		}
		done, raw := graded(t, student, c.ID, sub.ID)
		noMarker(t, marker, "the graded submission", raw)
		// The marker is there to find: the teacher sees the failure's output.
		if body := teacher.Get(t, "/api/courses/"+c.ID+"/submissions/"+sub.ID).Body; !strings.Contains(string(body), marker) {
			t.Fatalf("the teacher's view lacks the hidden test's output: %s", body)
		}
		if done.Status != "graded" || done.Result == nil || len(done.Result.Tests) != 3 {
			t.Fatalf("graded: %s", raw)
		}
		// 2 of 3 tests of 10 points; no rubric points yet.
		if *done.AutoScore != 6.67 || *done.Score != 6.67 || done.MaxScore != 15 {
			t.Fatalf("scores: %s", raw)
		}
		for _, tr := range done.Result.Tests {
			if tr.Output != "" || tr.Hidden && tr.Message != map[bool]string{true: "Passed", false: "Failed"}[tr.Passed] {
				t.Fatalf("a student's test result: %+v", tr)
			}
		}
		var bag struct{ Submissions []submission }
		student.Get(t, base+"/submissions").WantStatus(t, http.StatusOK).Decode(t, &bag)
		if len(bag.Submissions) != 1 {
			t.Fatalf("student's submissions: %+v", bag)
		}
		var files2 struct{ Files []struct{ Path string } }
		teacher.Get(t, "/api/courses/"+c.ID+"/submissions/"+sub.ID+"/files").WantStatus(t, http.StatusOK).Decode(t, &files2)
		if len(files2.Files) == 0 {
			t.Fatal("the submission has no files")
		}
		if body := teacher.Get(t, "/api/courses/"+c.ID+"/submissions/"+sub.ID+"/files/solution.py").WantStatus(t, http.StatusOK).Body; !strings.Contains(string(body), "def add") {
			t.Fatalf("solution.py: %s", body)
		}

		// Hand grading: TAs grade, within each item's points.
		gradeURL := "/api/courses/" + c.ID + "/submissions/" + sub.ID + "/grade"
		ta.Post(t, gradeURL, map[string]any{"rubric": []map[string]any{{"id": "style", "points": 6}}}).WantError(t, http.StatusBadRequest, "invalid_rubric")
		student.Post(t, gradeURL, map[string]any{"rubric": []map[string]any{{"id": "style", "points": 5}}}).WantStatus(t, http.StatusForbidden)
		var hand struct{ Submission submission }
		ta.Post(t, gradeURL, map[string]any{"rubric": []map[string]any{{"id": "style", "points": 4, "comment": "clear"}}, "feedback": "Check large inputs."}).
			WantStatus(t, http.StatusOK).Decode(t, &hand)
		if *hand.Submission.Score != 10.67 || hand.Submission.Feedback != "Check large inputs." {
			t.Fatalf("after hand grading: %+v", hand.Submission)
		}

		// A regrade keeps the hand grading.
		student.Post(t, "/api/courses/"+c.ID+"/submissions/"+sub.ID+"/regrade", nil).WantStatus(t, http.StatusForbidden)
		teacher.Post(t, "/api/courses/"+c.ID+"/submissions/"+sub.ID+"/regrade", nil).WantStatus(t, http.StatusAccepted)
		if again, raw := graded(t, teacher, c.ID, sub.ID); *again.Score != 10.67 || len(again.Result.Tests) != 3 {
			t.Fatalf("regraded: %s", raw)
		}

		// Fixed: full marks on the second submission.
		write(t, student, p.ID, "solution.py", "def add(a, b):\n    return a + b\n")
		second, raw := graded(t, student, c.ID, submit(t, student, c.ID, a.ID).ID)
		if second.Number != 2 || *second.AutoScore != 10 {
			t.Fatalf("second submission: %s", raw)
		}

		// Progress: the best score counts.
		var prog struct {
			Assignments []struct{ ID string }
			Students    []struct {
				Username string
				Cells    []struct {
					State string
					Score *float64
				}
			}
		}
		ta.Get(t, "/api/courses/"+c.ID+"/progress").WantStatus(t, http.StatusOK).Decode(t, &prog)
		if len(prog.Students) != 1 || prog.Students[0].Cells[0].State != "graded" || *prog.Students[0].Cells[0].Score != 10.67 {
			t.Fatalf("progress: %+v", prog)
		}
		student.Get(t, "/api/courses/"+c.ID+"/progress").WantStatus(t, http.StatusOK).Decode(t, &prog)
		if len(prog.Students) != 1 || prog.Students[0].Username != "stu" {
			t.Fatalf("student's progress: %+v", prog)
		}
		csvRes := teacher.Get(t, "/api/courses/"+c.ID+"/progress.csv").WantStatus(t, http.StatusOK)
		rows, err := csv.NewReader(strings.NewReader(string(csvRes.Body))).ReadAll()
		if err != nil || len(rows) != 2 || !slices.Equal(rows[0], []string{"username", "display name", "Add two numbers", "total"}) ||
			!slices.Equal(rows[1], []string{"stu", "stu", "10.67", "10.67"}) {
			t.Fatalf("CSV (%v): %q", err, rows)
		}

		// Limits: at most two submissions.
		teacher.Patch(t, base, map[string]any{"maxSubmissions": 2}).WantStatus(t, http.StatusOK)
		student.Post(t, base+"/submit", nil).WantError(t, http.StatusConflict, "too_many_submissions")

		// The teacher sees everything: hidden tests, outputs.
		res = teacher.Get(t, base+"/submissions").WantStatus(t, http.StatusOK)
		if !strings.Contains(string(res.Body), "test_hidden") {
			t.Fatalf("teacher's submissions lack the hidden tests: %s", res.Body)
		}
	})
}

func TestLatePolicies(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		teacher, student := s.SignUp(t, "tess"), s.SignUp(t, "stu")
		c := newCourse(t, teacher, "Late")
		join(t, student, c.JoinCode)
		body := pythonAssignment("x")
		due := time.Now().Add(-50 * time.Hour).UnixMilli() // 3 days late, counted up
		body["dueAt"] = due
		body["latePolicy"] = map[string]any{"kind": "penalty", "percentPerDay": 10, "maxDays": 5}
		a := createAssignment(t, teacher, c.ID, body)
		p := start(t, student, c.ID, a.ID)
		write(t, student, p.ID, "solution.py", "def add(a, b):\n    return a + b\n")
		sub, raw := graded(t, student, c.ID, submit(t, student, c.ID, a.ID).ID)
		if !sub.Late || sub.DaysLate != 3 || sub.PenaltyPercent != 30 || *sub.AutoScore != 10 || *sub.Score != 7 {
			t.Fatalf("late submission: %s", raw)
		}

		base := "/api/courses/" + c.ID + "/assignments/" + a.ID
		teacher.Patch(t, base, map[string]any{"latePolicy": map[string]any{"kind": "penalty", "percentPerDay": 10, "maxDays": 2}}).WantStatus(t, http.StatusOK)
		student.Post(t, base+"/submit", nil).WantError(t, http.StatusConflict, "past_due")
		teacher.Patch(t, base, map[string]any{"latePolicy": map[string]any{"kind": "reject"}}).WantStatus(t, http.StatusOK)
		student.Post(t, base+"/submit", nil).WantError(t, http.StatusConflict, "past_due")
		teacher.Patch(t, base, map[string]any{"dueAt": nil}).WantStatus(t, http.StatusOK)
		if sub := submit(t, student, c.ID, a.ID); sub.Late {
			t.Fatalf("without a due date: %+v", sub)
		}
	})
}

func TestSimilarity(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		teacher := s.SignUp(t, "tess")
		c := newCourse(t, teacher, "Honesty")
		a := createAssignment(t, teacher, c.ID, map[string]any{"title": "Primes", "template": "blank", "runner": "io",
			"command": "python3 main.py", "published": true, "cases": []map[string]any{{"stdin": "10\n", "stdout": "2 3 5 7\n"}}})
		solutions := map[string]string{
			"ann": "import sys\n\ndef primes(n):\n    out = []\n    for k in range(2, n + 1):\n        if all(k % d for d in range(2, int(k ** 0.5) + 1)):\n            out.append(k)\n    return out\n\nn = int(sys.stdin.readline())\nprint(' '.join(map(str, primes(n))))\n",
			// ann's code, reformatted with comments: still the same.
			"bob": "import sys\n# my own work\ndef primes(n):\n  out = []  # the primes\n  for k in range(2, n + 1):\n    if all(k % d for d in range(2, int(k ** 0.5) + 1)):\n      out.append(k)\n  return out\n\nn = int(sys.stdin.readline())\nprint(' '.join(map(str, primes(n))))\n",
			"cat": "n = int(input())\nsieve = [True] * (n + 1)\nfound = []\nfor i in range(2, n + 1):\n    if sieve[i]:\n        found.append(str(i))\n        for j in range(i * i, n + 1, i):\n            sieve[j] = False\nprint(\" \".join(found))\n",
		}
		subs, users := map[string]string{}, map[string]*testserver.Client{}
		for _, name := range []string{"ann", "bob", "cat"} {
			u := s.SignUp(t, name)
			users[name] = u
			join(t, u, c.JoinCode)
			p := start(t, u, c.ID, a.ID)
			write(t, u, p.ID, "main.py", solutions[name])
			subs[name] = submit(t, u, c.ID, a.ID).ID
		}
		var out struct {
			Pairs []struct {
				A, B  struct{ Username, SubmissionID string }
				Score float64
			}
			Threshold float64
		}
		teacher.Get(t, "/api/courses/"+c.ID+"/assignments/"+a.ID+"/similarity").WantStatus(t, http.StatusOK).Decode(t, &out)
		if out.Threshold != 0.8 || len(out.Pairs) != 1 {
			t.Fatalf("similarity: %+v", out)
		}
		pair := []string{out.Pairs[0].A.Username, out.Pairs[0].B.Username}
		slices.Sort(pair)
		if !slices.Equal(pair, []string{"ann", "bob"}) || out.Pairs[0].Score < 0.99 {
			t.Fatalf("flagged: %+v", out.Pairs)
		}
		users["ann"].Get(t, "/api/courses/"+c.ID+"/submissions/"+subs["bob"]).WantStatus(t, http.StatusNotFound)
		users["ann"].Get(t, "/api/courses/"+c.ID+"/assignments/"+a.ID+"/similarity").WantStatus(t, http.StatusForbidden)

		// A deleted course takes its submissions' files, not the
		// students' projects.
		dir := filepath.Join(s.App.Config.DataDir, "submissions", c.ID)
		if _, err := os.Stat(filepath.Join(dir, subs["ann"], "main.py")); err != nil {
			t.Fatalf("ann's snapshot: %v", err)
		}
		var mine struct{ Assignment assignment }
		users["ann"].Get(t, "/api/courses/"+c.ID+"/assignments/"+a.ID).WantStatus(t, http.StatusOK).Decode(t, &mine)
		teacher.Delete(t, "/api/courses/"+c.ID).WantStatus(t, http.StatusNoContent)
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("the course's submissions are still on disk: %v", err)
		}
		users["ann"].Get(t, "/api/projects/"+*mine.Assignment.Mine.ProjectID).WantStatus(t, http.StatusOK)
	})
}

// TestDeletedProjects: a student who deletes their copy starts afresh; a
// deleted starter leaves the assignment, which can no longer be started.
func TestDeletedProjects(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		teacher, ann, bob := s.SignUp(t, "tess"), s.SignUp(t, "ann"), s.SignUp(t, "bob")
		c := newCourse(t, teacher, "Deletions")
		join(t, ann, c.JoinCode)
		join(t, bob, c.JoinCode)
		a := createAssignment(t, teacher, c.ID, pythonAssignment("x"))
		base := "/api/courses/" + c.ID + "/assignments/" + a.ID
		first := start(t, ann, c.ID, a.ID)
		ann.Delete(t, "/api/projects/"+first.ID).WantStatus(t, http.StatusNoContent)
		var got struct{ Assignment assignment }
		ann.Get(t, base).WantStatus(t, http.StatusOK).Decode(t, &got)
		if got.Assignment.Mine.State != "not_started" || got.Assignment.Mine.ProjectID != nil {
			t.Fatalf("after deleting the copy: %+v", got.Assignment.Mine)
		}
		if again := start(t, ann, c.ID, a.ID); again.ID == first.ID {
			t.Fatal("started the deleted copy again")
		}
		teacher.Delete(t, "/api/projects/"+a.StarterProjectID).WantStatus(t, http.StatusNoContent)
		bob.Post(t, base+"/start", nil).WantError(t, http.StatusConflict, "starter_missing")
		teacher.Get(t, base).WantStatus(t, http.StatusOK)

		// Students see published assignments only.
		draft := pythonAssignment("x")
		draft["published"], draft["title"] = false, "Draft"
		d := createAssignment(t, teacher, c.ID, draft)
		bob.Get(t, "/api/courses/"+c.ID+"/assignments/"+d.ID).WantStatus(t, http.StatusNotFound)
		var list struct{ Assignments []assignment }
		bob.Get(t, "/api/courses/"+c.ID+"/assignments").WantStatus(t, http.StatusOK).Decode(t, &list)
		if len(list.Assignments) != 1 || list.Assignments[0].ID != a.ID {
			t.Fatalf("a student's list: %+v", list.Assignments)
		}
	})
}

// TestGradingSurvivesRestart: a submission waiting in the queue when the
// server stops is graded by the next server over the same data.
func TestGradingSurvivesRestart(t *testing.T) {
	testserver.NeedSandbox(t)
	e := testdb.Engines(t)[0]
	one := func(c *config.Config) { c.GradingWorkers = 1 }
	s := testserver.New(t, e, one)
	teacher := s.SignUp(t, "tess")
	c := newCourse(t, teacher, "Durable")
	body := pythonAssignment("x")
	body["limits"] = map[string]any{"cpuSeconds": 1, "wallSeconds": 2}
	a := createAssignment(t, teacher, c.ID, body)
	var ids []string
	for _, name := range []string{"ann", "bob"} {
		u := s.SignUp(t, name)
		join(t, u, c.JoinCode)
		p := start(t, u, c.ID, a.ID)
		// ann's loops until its limits stop it, holding the one worker
		// while bob's waits behind it.
		solution := map[string]string{"ann": "def add(a, b):\n    while True:\n        pass\n", "bob": "def add(a, b):\n    return a + b\n"}[name]
		write(t, u, p.ID, "solution.py", solution)
		ids = append(ids, submit(t, u, c.ID, a.ID).ID)
	}
	var waiting struct{ Submission submission }
	teacher.Get(t, "/api/courses/"+c.ID+"/submissions/"+ids[1]).WantStatus(t, http.StatusOK).Decode(t, &waiting)
	if waiting.Submission.Status != "queued" {
		t.Fatalf("bob's submission is %s before the restart; it should wait behind ann's", waiting.Submission.Status)
	}
	s.Close()
	if err := s.App.Close(); err != nil {
		t.Fatal(err)
	}
	// As if the server had stopped between writing bob's row and queueing
	// its job: the next server queues it from the row.
	db, err := store.Open(t.Context(), s.App.Config.DatabaseURL, s.App.Config.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := db.Exec(t.Context(), `DELETE FROM river_job WHERE CAST(args AS TEXT) LIKE ?`, "%"+ids[1]+"%"); err != nil || n != 1 {
		t.Fatalf("drop bob's job: %d rows, %v", n, err)
	}
	db.Close()

	s2 := testserver.New(t, e, one, func(cfg *config.Config) {
		cfg.DataDir, cfg.DatabaseURL = s.App.Config.DataDir, s.App.Config.DatabaseURL
	})
	teacher2 := s2.Anonymous()
	teacher2.Post(t, "/api/auth/login", map[string]string{"login": "tess", "password": "password-tess"}).WantStatus(t, http.StatusOK)
	bob, raw := graded(t, teacher2, c.ID, ids[1])
	if bob.Status != "graded" || *bob.AutoScore != 10 {
		t.Fatalf("bob's submission after the restart: %s", raw)
	}
	ann, raw := graded(t, teacher2, c.ID, ids[0])
	if ann.Status != "graded" || *ann.AutoScore != 0 || ann.Result == nil {
		t.Fatalf("ann's looping submission: %s", raw)
	}
}
