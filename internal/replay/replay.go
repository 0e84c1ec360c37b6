// Package replay keeps session replays: the rrweb events that the browser
// SDK records on a deployed app's pages, uploaded as gzip chunks, checked,
// stored in the blob bucket, listed and played back in the Monitoring tab,
// and deleted after the retention.
//
// A chunk is stored exactly as the browser compressed it, so what a session
// counts in bytes is what it costs in storage. Chunks may arrive out of
// order or more than once (a retried upload replaces the same seq); a seq
// that never arrives is reported as missing and the player skips the gap.
// Client addresses are used for rate limits only, never stored.
package replay

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"gocloud.dev/blob"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/project"
	"ecode/internal/store"
	"ecode/internal/telemetry"
)

// KeyResolver answers the scope (project id) of a public ingest key; ok is
// false for a key no project holds. telemetry.Service is one.
type KeyResolver interface {
	Resolve(ctx context.Context, key string) (scope string, ok bool, err error)
}

// Projects is what the replay routes need of the project capability: the
// project, once access is granted.
type Projects interface {
	Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error)
}

// Options tune the service; zero values take the defaults.
type Options struct {
	// ChunksPerSecond and Burst bound the uploads of one (scope, client
	// address) (default 5/s, burst 100).
	ChunksPerSecond float64
	Burst           int
	// MaxChunkBytes bounds one upload as sent (1 MiB), MaxDecodedBytes what
	// it may decompress to (8 MiB).
	MaxChunkBytes, MaxDecodedBytes int64
	// MaxSessionChunks (2000) and MaxSessionBytes (50 MiB, compressed)
	// bound one session.
	MaxSessionChunks int64
	MaxSessionBytes  int64
	// Retention keeps a session this long after its last upload (30 days).
	Retention time.Duration
	// Now is the clock (time.Now); tests set it.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.ChunksPerSecond <= 0 {
		o.ChunksPerSecond = 5
	}
	if o.Burst <= 0 {
		o.Burst = 100
	}
	if o.MaxChunkBytes <= 0 {
		o.MaxChunkBytes = 1 << 20
	}
	if o.MaxDecodedBytes <= 0 {
		o.MaxDecodedBytes = 8 << 20
	}
	if o.MaxSessionChunks <= 0 {
		o.MaxSessionChunks = 2000
	}
	if o.MaxSessionBytes <= 0 {
		o.MaxSessionBytes = 50 << 20
	}
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Service is the session replay capability.
type Service struct {
	db       *store.DB
	bucket   *blob.Bucket
	keys     KeyResolver
	projects Projects
	limits   *telemetry.Limiter
	opts     Options
}

// New builds the service over db, keeping chunks in bucket.
func New(db *store.DB, bucket *blob.Bucket, keys KeyResolver, projects Projects, opts Options) *Service {
	if db == nil || bucket == nil || keys == nil || projects == nil {
		panic("replay.New: nil db, bucket, keys or projects")
	}
	opts.defaults()
	return &Service{
		db:       db,
		bucket:   bucket,
		keys:     keys,
		projects: projects,
		limits:   telemetry.NewLimiter(opts.ChunksPerSecond, opts.Burst),
		opts:     opts,
	}
}

// Run applies the retention every hour until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Retain(ctx); err != nil {
				slog.Error("replay retention", "err", err)
			}
		}
	}
}

// Replay is one recorded session as lists show it. Times are unix ms of
// the browser's events; Bytes is the compressed size stored.
type Replay struct {
	ID         string `json:"id" db:"session"`
	StartedAt  int64  `json:"startedAt" db:"started_at"`
	LastAt     int64  `json:"lastAt" db:"last_at"`
	DurationMs int64  `json:"durationMs" db:"-"`
	Chunks     int64  `json:"chunks" db:"chunks"`
	Bytes      int64  `json:"bytes" db:"bytes"`
	URL        string `json:"url" db:"url"`
	HasError   bool   `json:"hasError" db:"has_error"`
}

// Item is one stored chunk of a session.
type Item struct {
	Seq          int64 `json:"seq" db:"seq"`
	FirstTs      int64 `json:"firstTs" db:"first_ts"`
	LastTs       int64 `json:"lastTs" db:"last_ts"`
	Bytes        int64 `json:"bytes" db:"bytes"`
	FullSnapshot bool  `json:"fullSnapshot" db:"full_snapshot"`
}

// Detail is a session with its chunks, in seq order, and the seqs below
// the last one that never arrived.
type Detail struct {
	Replay
	Items   []Item  `json:"items"`
	Missing []int64 `json:"missing"`
}

// Upload is one chunk as the SDK posts it.
type Upload struct {
	Key     string // the project's public ingest key
	Session string
	Seq     int64
	Error   bool   // the session had an error
	Client  string // the sender's address, for the rate limit only
	Body    []byte // gzip of a JSON array of rrweb events
}

var sessionRe = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// blobKey is where a chunk's bytes live; seqs are padded so a listing
// of a session's folder is in seq order.
func blobKey(scope, session string, seq int64) string {
	return fmt.Sprintf("replays/%s/%s/%06d.json.gz", scope, session, seq)
}

// now is the clock in unix ms.
func (s *Service) now() int64 { return s.opts.Now().UnixMilli() }
