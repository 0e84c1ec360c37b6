// Command grading measures auto-grading on a running server: a teacher's
// assignment (small Python or Node, three visible and three hidden tests),
// students who start it and answer it, then a burst of submissions all at
// once. It prints the throughput (submissions graded per minute, from the
// first submit to the last score) and the time from submit to score.
//
//	go run ./bench/grading -base http://127.0.0.1:8080 -runner pytest -n 100
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "the server")
	runner := flag.String("runner", "pytest", "pytest or node")
	n := flag.Int("n", 100, "submissions in the burst")
	students := flag.Int("students", 100, "students submitting; each comes from an address of its own (X-Forwarded-For: run the server with ECODE_TRUSTED_PROXIES=127.0.0.1/32), as sign-ups are rate-limited per address")
	flag.Parse()
	if err := run(*base, *runner, *n, *students); err != nil {
		fmt.Fprintln(os.Stderr, "grading:", err)
		os.Exit(1)
	}
}

// assignment is a small exercise per runner: the starter's answer, its
// visible tests and its hidden ones.
type assignment struct {
	answerPath, answer string
	tests              []map[string]any
}

var assignments = map[string]assignment{
	"pytest": {
		answerPath: "solution.py",
		answer:     "def add(a, b):\n    return a + b\n\ndef mul(a, b):\n    return a * b\n",
		tests: []map[string]any{
			{"path": "test_visible.py", "hidden": false, "content": "from solution import add, mul\n\ndef test_add():\n    assert add(2, 3) == 5\n\ndef test_mul():\n    assert mul(2, 3) == 6\n\ndef test_zero():\n    assert add(0, 0) == 0\n"},
			{"path": "test_hidden.py", "hidden": true, "content": "from solution import add, mul\n\ndef test_negative():\n    assert add(-2, -3) == -5\n\ndef test_big():\n    assert mul(10**6, 10**6) == 10**12\n\ndef test_mixed():\n    assert add(mul(2, 3), 1) == 7\n"},
		},
	},
	"node": {
		answerPath: "solution.js",
		answer:     "exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a * b;\n",
		tests: []map[string]any{
			{"path": "visible.test.js", "hidden": false, "content": "const test = require('node:test');\nconst assert = require('node:assert');\nconst { add, mul } = require('./solution.js');\ntest('add', () => assert.strictEqual(add(2, 3), 5));\ntest('mul', () => assert.strictEqual(mul(2, 3), 6));\ntest('zero', () => assert.strictEqual(add(0, 0), 0));\n"},
			{"path": "hidden.test.js", "hidden": true, "content": "const test = require('node:test');\nconst assert = require('node:assert');\nconst { add, mul } = require('./solution.js');\ntest('negative', () => assert.strictEqual(add(-2, -3), -5));\ntest('big', () => assert.strictEqual(mul(1e6, 1e6), 1e12));\ntest('mixed', () => assert.strictEqual(add(mul(2, 3), 1), 7));\n"},
		},
	},
}

type client struct {
	base, addr string
	http       *http.Client
}

func newClient(base, addr string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{base: base, addr: addr, http: &http.Client{Jar: jar, Timeout: 2 * time.Minute}}
}

// do sends body (JSON unless it is a string) and decodes the answer into out.
func (c *client) do(method, path string, body, out any) error {
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "application/octet-stream"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("X-Forwarded-For", c.addr)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func signUp(base, name string, n int) (*client, error) {
	c := newClient(base, fmt.Sprintf("10.77.%d.%d", n/250, n%250+1))
	return c, c.do("POST", "/api/auth/signup", map[string]string{
		"username": name, "email": name + "@example.com", "password": "bench-password-" + name,
	}, nil)
}

type submission struct {
	ID          string   `json:"id"`
	Status      string   `json:"status"`
	SubmittedAt int64    `json:"submittedAt"`
	GradedAt    *int64   `json:"gradedAt"`
	Score       *float64 `json:"score"`
	MaxScore    float64  `json:"maxScore"`
}

func run(base, runner string, n, students int) error {
	a, ok := assignments[runner]
	if !ok {
		return fmt.Errorf("unknown runner %q", runner)
	}
	stamp := time.Now().Format("150405")
	teacher, err := signUp(base, "teacher"+stamp, 0)
	if err != nil {
		return err
	}
	var course struct{ Course struct{ ID, JoinCode string } }
	if err := teacher.do("POST", "/api/courses", map[string]string{"name": "Bench " + runner}, &course); err != nil {
		return err
	}
	var created struct{ Assignment struct{ ID string } }
	if err := teacher.do("POST", "/api/courses/"+course.Course.ID+"/assignments", map[string]any{
		"title": "Add and multiply", "template": "blank", "runner": runner, "tests": a.tests, "published": true,
	}, &created); err != nil {
		return err
	}
	path := "/api/courses/" + course.Course.ID + "/assignments/" + created.Assignment.ID
	people := make([]*client, students)
	for i := range people {
		s, err := signUp(base, fmt.Sprintf("student%s%03d", stamp, i), i+1)
		if err != nil {
			return err
		}
		if err := s.do("POST", "/api/courses/join", map[string]string{"code": course.Course.JoinCode}, nil); err != nil {
			return err
		}
		var start struct{ Project struct{ ID string } }
		if err := s.do("POST", path+"/start", nil, &start); err != nil {
			return err
		}
		if err := s.do("PUT", "/api/projects/"+start.Project.ID+"/files/"+a.answerPath, a.answer, nil); err != nil {
			return err
		}
		people[i] = s
	}

	// The burst: every submission at once (a student's next one waits for
	// their previous to be in), then each polled to its score.
	subs := make([]submission, n)
	turns := make([]sync.Mutex, students)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	began := time.Now()
	for i := range n {
		wg.Go(func() {
			s := people[i%students]
			var out struct{ Submission submission }
			turns[i%students].Lock()
			err := s.do("POST", path+"/submit", nil, &out)
			turns[i%students].Unlock()
			if err != nil {
				errs <- err
				return
			}
			for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
				if out.Submission.Status == "graded" || out.Submission.Status == "failed" {
					subs[i] = out.Submission
					return
				}
				if time.Now().After(deadline) {
					errs <- fmt.Errorf("submission %s not graded in 10 minutes", out.Submission.ID)
					return
				}
				if err := s.do("GET", "/api/courses/"+course.Course.ID+"/submissions/"+out.Submission.ID, nil, &out); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	var waits []time.Duration
	var last int64
	full := 0
	for _, s := range subs {
		if s.Status != "graded" || s.GradedAt == nil {
			return fmt.Errorf("submission %s ended %s", s.ID, s.Status)
		}
		if s.Score != nil && *s.Score == s.MaxScore {
			full++
		}
		waits = append(waits, time.Duration(*s.GradedAt-s.SubmittedAt)*time.Millisecond)
		last = max(last, *s.GradedAt)
	}
	slices.Sort(waits)
	span := time.UnixMilli(last).Sub(began)
	fmt.Printf("%s: %d submissions graded in %s = %.0f/min (full marks %d/%d); submit→score p50 %s p95 %s max %s\n",
		runner, n, span.Round(time.Millisecond), float64(n)/span.Minutes(), full, n,
		waits[len(waits)/2], waits[len(waits)*95/100], waits[len(waits)-1])
	return nil
}
