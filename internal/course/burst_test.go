package course_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"ecode/internal/testserver"
)

// TestGradingBurst submits a class's work all at once: right answers,
// wrong ones and a runaway loop. Every submission is graded once, each
// with its own score, and the runaway's reason does not spill onto the
// others.
func TestGradingBurst(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		teacher := s.SignUp(t, "tess")
		c := newCourse(t, teacher, "Burst 101")
		body := pythonAssignment("BURST-MARKER")
		body["limits"] = map[string]int{"cpuSeconds": 2, "wallSeconds": 3}
		a := createAssignment(t, teacher, c.ID, body)
		answers := []string{
			"def add(a, b):\n    return a + b\n",                 // all three tests pass
			"def add(a, b):\n    return a + b if a > 0 else 0\n", // the negative case fails
			"def add(a, b):\n    while True:\n        pass\n",    // every test runs out of time
		}
		const class = 12
		students := make([]*testserver.Client, class)
		for i := range students {
			students[i] = s.SignUp(t, fmt.Sprintf("pupil%02d", i))
			join(t, students[i], c.JoinCode)
			p := start(t, students[i], c.ID, a.ID)
			write(t, students[i], p.ID, "solution.py", answers[i%len(answers)])
		}

		ids := make([]string, class)
		fails := make(chan string, class)
		var wg sync.WaitGroup
		for i, st := range students {
			wg.Go(func() {
				res := st.Do(t, http.MethodPost, "/api/courses/"+c.ID+"/assignments/"+a.ID+"/submit", nil)
				var out struct{ Submission submission }
				if res.StatusCode != http.StatusAccepted || json.Unmarshal(res.Body, &out) != nil {
					fails <- fmt.Sprintf("student %d: %d %s", i, res.StatusCode, res.Body)
					return
				}
				ids[i] = out.Submission.ID
			})
		}
		wg.Wait()
		close(fails)
		for f := range fails {
			t.Fatalf("submit in the burst: %s", f)
		}

		want := []float64{10, 10 * 2 / 3.0, 0}
		for i, st := range students {
			sub, _ := graded(t, st, c.ID, ids[i])
			if sub.Status != "graded" || sub.AutoScore == nil {
				t.Fatalf("student %d's submission ended %s: %s", i, sub.Status, sub.Reason)
			}
			if got := *sub.AutoScore; got < want[i%3]-0.01 || got > want[i%3]+0.01 {
				t.Errorf("student %d (answer %d) scored %.2f, want %.2f; %+v", i, i%3, got, want[i%3], sub.Result)
			}
			if i%3 == 2 && (sub.Result == nil || sub.Result.Reason == "") {
				t.Errorf("the runaway loop's grading gives no reason: %+v", sub.Result)
			}
			if i%3 != 2 && sub.Result != nil && sub.Result.Reason != "" {
				t.Errorf("student %d's grading carries a reason not theirs: %q", i, sub.Result.Reason)
			}
		}
		// Once each: the teacher sees exactly the class's submissions.
		var list struct{ Submissions []submission }
		teacher.Get(t, "/api/courses/"+c.ID+"/assignments/"+a.ID+"/submissions").WantStatus(t, http.StatusOK).Decode(t, &list)
		if len(list.Submissions) != class {
			t.Fatalf("the teacher sees %d submissions, want %d", len(list.Submissions), class)
		}
	})
}
