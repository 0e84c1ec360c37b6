// Package jobs is the platform's durable job queue: River over the
// platform's own database (PostgreSQL or SQLite), so a job inserted is
// never lost to a restart.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"ecode/internal/store"
)

// Queue runs registered workers over River's tables in db.
type Queue struct {
	pool    *sql.DB
	client  *river.Client[*sql.Tx]
	workers *river.Workers

	mu      sync.Mutex
	started bool
	stopped bool
}

// Options tune the queue.
type Options struct {
	// Workers is how many jobs of each named queue run at once; the
	// default queue (river.QueueDefault) gets one unless named.
	Workers map[string]int
	// PollInterval is how often the queue looks for jobs inserted by other
	// processes (SQLite and PostgreSQL here are polled, not notified);
	// default 200 ms.
	PollInterval time.Duration
	// Logger receives River's own logs; default slog.Default().
	Logger *slog.Logger
}

// jobTimeout bounds one job unless its worker says otherwise: a grading
// of the slowest runner (two phases of a minute each) fits.
const jobTimeout = 10 * time.Minute

// New migrates River's tables and makes a queue ready for Register; it
// works nothing until Start. Jobs may be inserted at once.
func New(ctx context.Context, db *store.DB, opts Options) (*Queue, error) {
	if db == nil {
		panic("jobs.New: nil database")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	// SQLite takes one writer at a time: River's own parallel statements
	// would otherwise meet SQLITE_BUSY, so its pool is one connection.
	conns := 10
	if db.Dialect == store.SQLite {
		conns = 1
	}
	pool, err := db.Pool(conns)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	var driver riverdriver.Driver[*sql.Tx]
	if db.Dialect == store.SQLite {
		driver = riversqlite.New(pool)
	} else {
		driver = riverdatabasesql.New(pool)
	}
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: logger})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate the job queue's tables: %w", err)
	}
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}}
	for name, n := range opts.Workers {
		if n < 1 {
			pool.Close()
			return nil, fmt.Errorf("job queue %q: %d workers; it needs at least 1", name, n)
		}
		queues[name] = river.QueueConfig{MaxWorkers: n}
	}
	poll := opts.PollInterval
	if poll <= 0 {
		poll = 200 * time.Millisecond
	}
	// Workers are added to this bundle by Register after the client is
	// made: River reads it when a job is inserted or worked.
	workers := river.NewWorkers()
	client, err := river.NewClient(driver, &river.Config{
		Queues:            queues,
		Workers:           workers,
		FetchPollInterval: poll,
		FetchCooldown:     min(poll, 50*time.Millisecond),
		JobTimeout:        jobTimeout,
		Logger:            logger,
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("job queue client: %w", err)
	}
	return &Queue{pool: pool, client: client, workers: workers}, nil
}

// Register adds w's kind of job; call it before Start. Registering one
// kind twice is a programming error and panics.
func Register[T river.JobArgs](q *Queue, w river.Worker[T]) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		panic("jobs.Register after Start")
	}
	river.AddWorker(q.workers, w)
}

// Insert enqueues a job; opts may name its queue and uniqueness. A unique
// job that already exists is not inserted again, and that is no error.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := q.client.Insert(ctx, args, opts); err != nil {
		return fmt.Errorf("enqueue a %s job: %w", args.Kind(), err)
	}
	return nil
}

// Start begins working jobs until Stop, or until ctx ends, which stops
// the queue and cancels the jobs running.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return errors.New("start the job queue: it was stopped")
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start the job queue: %w", err)
	}
	q.started = true
	return nil
}

// stopGrace is how long jobs that ignore their cancelled context are
// waited for once Stop's own context has ended.
const stopGrace = 30 * time.Second

// Stop lets running jobs finish (until ctx ends, then cancels them) and
// stops; a job cut short is worked again by the next queue over the
// database. Stop is safe without Start and more than once.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return nil
	}
	q.stopped = true
	var stopErr error
	if q.started {
		if err := q.client.Stop(ctx); err != nil {
			hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopGrace)
			defer cancel()
			if err := q.client.StopAndCancel(hard); err != nil {
				stopErr = fmt.Errorf("stop the job queue: %w", err)
			}
		}
	}
	if err := q.pool.Close(); err != nil && stopErr == nil {
		stopErr = fmt.Errorf("close the job queue's database pool: %w", err)
	}
	return stopErr
}
