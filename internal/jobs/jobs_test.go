package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"ecode/internal/jobs"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

type echoArgs struct {
	Key string `json:"key"`
}

func (echoArgs) Kind() string { return "test_echo" }

// recorder is a worker that counts the attempts of each key and fails
// the first failFirst of them.
type recorder struct {
	river.WorkerDefaults[echoArgs]
	failFirst int

	mu       sync.Mutex
	attempts map[string]int
	done     map[string]int
	changed  chan struct{}
}

func newRecorder(failFirst int) *recorder {
	return &recorder{failFirst: failFirst, attempts: map[string]int{}, done: map[string]int{}, changed: make(chan struct{}, 100)}
}

func (r *recorder) Work(ctx context.Context, job *river.Job[echoArgs]) error {
	r.mu.Lock()
	defer func() {
		r.mu.Unlock()
		select {
		case r.changed <- struct{}{}:
		default:
		}
	}()
	r.attempts[job.Args.Key]++
	if r.attempts[job.Args.Key] <= r.failFirst {
		return errors.New("planned failure")
	}
	r.done[job.Args.Key]++
	return nil
}

// NextRetry retries at once, so the test does not wait River's backoff.
func (r *recorder) NextRetry(*river.Job[echoArgs]) time.Time { return time.Now() }

func (r *recorder) counts(key string) (attempts, done int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[key], r.done[key]
}

// waitDone waits until key has been worked to success want times.
func (r *recorder) waitDone(t *testing.T, key string, want int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if _, done := r.counts(key); done >= want {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			a, d := r.counts(key)
			t.Fatalf("job %s: %d attempts, %d done; want %d done", key, a, d, want)
		}
	}
}

func newQueue(t *testing.T, db *store.DB, w *recorder) *jobs.Queue {
	t.Helper()
	q, err := jobs.New(context.Background(), db, jobs.Options{Workers: map[string]int{"work": 2}, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	jobs.Register(q, w)
	t.Cleanup(func() { q.Stop(context.Background()) })
	return q
}

func TestQueue(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			ctx := context.Background()
			db := testdb.Open(t, e)

			t.Run("worked once", func(t *testing.T) {
				w := newRecorder(0)
				q := newQueue(t, db, w)
				if err := q.Start(ctx); err != nil {
					t.Fatal(err)
				}
				if err := q.Insert(ctx, echoArgs{Key: "once"}, &river.InsertOpts{Queue: "work"}); err != nil {
					t.Fatal(err)
				}
				w.waitDone(t, "once", 1)
				if err := q.Stop(ctx); err != nil {
					t.Fatal(err)
				}
				if a, d := w.counts("once"); a != 1 || d != 1 {
					t.Fatalf("attempts %d, done %d; want 1 and 1", a, d)
				}
				if err := q.Stop(ctx); err != nil {
					t.Fatalf("second Stop: %v", err)
				}
			})

			t.Run("retried after an error", func(t *testing.T) {
				w := newRecorder(2)
				q := newQueue(t, db, w)
				if err := q.Start(ctx); err != nil {
					t.Fatal(err)
				}
				if err := q.Insert(ctx, echoArgs{Key: "retry"}, &river.InsertOpts{Queue: "work"}); err != nil {
					t.Fatal(err)
				}
				w.waitDone(t, "retry", 1)
				if a, _ := w.counts("retry"); a != 3 {
					t.Fatalf("attempts %d, want 3 (two failures, then success)", a)
				}
			})

			t.Run("survives a restart", func(t *testing.T) {
				first := newRecorder(0)
				q1 := newQueue(t, db, first)
				// Inserted before Start and never started: as a server
				// that went down before working it.
				if err := q1.Insert(ctx, echoArgs{Key: "durable"}, &river.InsertOpts{Queue: "work"}); err != nil {
					t.Fatal(err)
				}
				if err := q1.Stop(ctx); err != nil {
					t.Fatal(err)
				}
				second := newRecorder(0)
				q2 := newQueue(t, db, second)
				if err := q2.Start(ctx); err != nil {
					t.Fatal(err)
				}
				second.waitDone(t, "durable", 1)
				if a, _ := first.counts("durable"); a != 0 {
					t.Fatalf("the stopped queue worked the job %d times", a)
				}
				if err := q1.Start(ctx); err == nil {
					t.Fatal("a stopped queue started again")
				}
			})

			t.Run("unique by args", func(t *testing.T) {
				w := newRecorder(0)
				q := newQueue(t, db, w)
				opts := &river.InsertOpts{Queue: "work", UniqueOpts: river.UniqueOpts{ByArgs: true}}
				for range 3 {
					if err := q.Insert(ctx, echoArgs{Key: "unique"}, opts); err != nil {
						t.Fatal(err)
					}
				}
				if err := q.Insert(ctx, echoArgs{Key: "other"}, opts); err != nil {
					t.Fatal(err)
				}
				if err := q.Start(ctx); err != nil {
					t.Fatal(err)
				}
				w.waitDone(t, "unique", 1)
				w.waitDone(t, "other", 1)
				if err := q.Stop(ctx); err != nil {
					t.Fatal(err)
				}
				if a, _ := w.counts("unique"); a != 1 {
					t.Fatalf("the unique job was worked %d times, want 1", a)
				}
			})
		})
	}
}

func TestStopWithoutStart(t *testing.T) {
	db := testdb.Open(t, testdb.Engines(t)[0])
	q, err := jobs.New(context.Background(), db, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRejectsZeroWorkers(t *testing.T) {
	db := testdb.Open(t, testdb.Engines(t)[0])
	if _, err := jobs.New(context.Background(), db, jobs.Options{Workers: map[string]int{"grading": 0}}); err == nil {
		t.Fatal("a queue with no workers was accepted")
	}
}
