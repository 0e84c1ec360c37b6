package grade_test

import (
	"context"
	"fmt"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ecode/internal/grade"
)

// benchGrade grades b.N copies of job, as many at once as the machine has
// cores (the grading queue's default), and reports submissions a minute
// and the 95th percentile of one grading's time.
func benchGrade(b *testing.B, files map[string]string, job grade.Job) {
	g := newGrader(b)
	job.Dir = submission(b, files)
	// One warm-up: the first sandbox start reads the agent binary, the
	// interpreter and its libraries from disk.
	job.ID = "warm"
	if res, err := g.Grade(context.Background(), job); err != nil || res.Points != res.Max-2 {
		b.Fatalf("warm-up: %v %+v", err, res)
	}
	var (
		next  atomic.Int64
		mu    sync.Mutex
		times []time.Duration
		wg    sync.WaitGroup
	)
	b.ResetTimer()
	start := time.Now()
	for w := range goruntime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				j := job
				j.ID = fmt.Sprintf("b%d-%d", w, i)
				res, err := g.Grade(context.Background(), j)
				if err != nil {
					b.Error(err)
					return
				}
				if res.Points != res.Max-2 {
					b.Errorf("graded %d/%d, want %d: %s %+v", res.Points, res.Max, res.Max-2, res.Reason, res.Tests)
					return
				}
				mu.Lock()
				times = append(times, res.Duration)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Minutes(), "submissions/min")
	if len(times) > 0 {
		slices.Sort(times)
		b.ReportMetric(float64(times[len(times)*95/100].Milliseconds()), "p95-ms")
	}
}

// BenchmarkGradePython: a small pytest assignment, three visible tests and
// three hidden ones, one of each failing.
func BenchmarkGradePython(b *testing.B) {
	benchGrade(b, map[string]string{"calc.py": calc}, grade.Job{Runner: grade.Pytest, Tests: []grade.TestFile{
		{Path: "test_calc.py", Content: "from calc import add, mul\n\ndef test_add():\n    assert add(2, 3) == 5\n\ndef test_add_neg():\n    assert add(-2, -3) == -5\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"},
		{Path: "test_hidden.py", Hidden: true, Content: "from calc import add, mul\n\ndef test_zero():\n    assert add(0, 0) == 0\n\ndef test_big():\n    assert add(10**9, 1) == 10**9 + 1\n\ndef test_mul_one():\n    assert mul(7, 1) == 7\n"},
	}})
}

// BenchmarkGradeNode: the same assignment for node --test.
func BenchmarkGradeNode(b *testing.B) {
	benchGrade(b, map[string]string{"calc.js": "exports.add = (a, b) => a + b;\nexports.mul = (a, b) => a + b;\n"}, grade.Job{Runner: grade.Node, Tests: []grade.TestFile{
		{Path: "calc.test.js", Content: "const test = require('node:test');\nconst assert = require('node:assert');\nconst { add, mul } = require('./calc');\ntest('add', () => assert.strictEqual(add(2, 3), 5));\ntest('add neg', () => assert.strictEqual(add(-2, -3), -5));\ntest('mul', () => assert.strictEqual(mul(2, 3), 6));\n"},
		{Path: "hidden.test.js", Hidden: true, Content: "const test = require('node:test');\nconst assert = require('node:assert');\nconst { add, mul } = require('./calc');\ntest('zero', () => assert.strictEqual(add(0, 0), 0));\ntest('big', () => assert.strictEqual(add(1e9, 1), 1e9 + 1));\ntest('mul one', () => assert.strictEqual(mul(7, 1), 7));\n"},
	}})
}
