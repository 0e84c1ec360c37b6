package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// limited is an upload refused by the rate limit, with when to try again.
type limited struct {
	err   *errs.Error
	after time.Duration
}

func (l *limited) Error() string { return l.err.Error() }
func (l *limited) Unwrap() error { return l.err }

// Ingest checks one uploaded chunk and stores it, replacing an earlier
// upload of the same seq. Nothing of a refused chunk is kept; the
// session's other chunks stay as they were.
func (s *Service) Ingest(ctx context.Context, up Upload) error {
	if up.Key == "" {
		return errs.Unauthenticated("unknown_key", "Send the project's ingest key as ?key=pk_...")
	}
	if !sessionRe.MatchString(up.Session) {
		return errs.Invalid("bad_session", "The session id must be 8 to 64 letters, digits, '-' or '_'.")
	}
	if up.Seq < 0 || up.Seq >= s.opts.MaxSessionChunks {
		return errs.TooLarge("replay_full", "A session holds at most %d chunks (seq 0 to %d).", s.opts.MaxSessionChunks, s.opts.MaxSessionChunks-1)
	}
	scope, ok, err := s.keys.Resolve(ctx, up.Key)
	if err != nil {
		return fmt.Errorf("resolve ingest key: %w", err)
	}
	if !ok {
		return errs.Unauthenticated("unknown_key", "No project has this ingest key; copy the current one from the project's Monitoring settings.")
	}
	if ok, wait := s.limits.Allow(scope+"\x00"+up.Client, 1); !ok {
		return &limited{errs.RateLimited("rate_limited", "Too many replay uploads; try again in a moment."), wait}
	}
	if int64(len(up.Body)) > s.opts.MaxChunkBytes {
		return tooLarge(s.opts.MaxChunkBytes)
	}
	info, err := inspect(up.Body, s.opts.MaxDecodedBytes)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(q store.Q) error {
		// Counted before this chunk's rows change, without the seq it replaces.
		u, err := sessionUsage(ctx, q, scope, up.Session, up.Seq)
		if err != nil {
			return err
		}
		size := int64(len(up.Body))
		if u.Chunks+1 > s.opts.MaxSessionChunks || u.Bytes+size > s.opts.MaxSessionBytes {
			return errs.TooLarge("replay_full", "This session's replay is full (%d chunks, %d bytes at most).", s.opts.MaxSessionChunks, s.opts.MaxSessionBytes)
		}
		c := chunkRow{Scope: scope, Session: up.Session, Seq: up.Seq, FirstTs: info.first, LastTs: info.last,
			Bytes: size, FullSnapshot: info.full, URL: info.url, ReceivedAt: s.now()}
		if err := saveChunk(ctx, q, c, up.Error); err != nil {
			return err
		}
		// Last, so that a failed write leaves the rows as they were.
		if err := s.bucket.WriteAll(ctx, blobKey(scope, up.Session, up.Seq), up.Body, nil); err != nil {
			return fmt.Errorf("write replay chunk: %w", err)
		}
		return nil
	})
}

// tooLarge refuses an upload over the per-chunk limit.
func tooLarge(limit int64) error {
	return errs.TooLarge("payload_too_large", "A replay chunk may be at most %d bytes.", limit)
}

// ranges are the spans a list may cover.
var ranges = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}

// maxList bounds a list of replays.
const maxList = 100

// Replays lists a project's sessions that had uploads within span ("1h",
// "24h", "7d", "30d"; "" is 24h), newest first; onlyErrors keeps those
// that had an error.
func (s *Service) Replays(ctx context.Context, actor *auth.User, projectID, span string, onlyErrors bool) ([]Replay, error) {
	if span == "" {
		span = "24h"
	}
	d, ok := ranges[span]
	if !ok {
		return nil, errs.Invalid("bad_range", "The range must be 1h, 24h, 7d or 30d, not %q.", span)
	}
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	return listSessions(ctx, s.db, p.ID, s.now()-d.Milliseconds(), onlyErrors, maxList)
}

// Replay answers one session of a project with its chunks.
func (s *Service) Replay(ctx context.Context, actor *auth.User, projectID, session string) (Detail, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return Detail{}, err
	}
	r, err := getSession(ctx, s.db, p.ID, session)
	if err != nil {
		return Detail{}, err
	}
	items, err := listChunks(ctx, s.db, p.ID, session)
	if err != nil {
		return Detail{}, err
	}
	return Detail{Replay: r, Items: items, Missing: missing(items)}, nil
}

// missing lists the seqs below the highest one that are not in items
// (sorted by seq).
func missing(items []Item) []int64 {
	out := []int64{}
	next := int64(0)
	for _, it := range items {
		for ; next < it.Seq; next++ {
			out = append(out, next)
		}
		next = it.Seq + 1
	}
	return out
}

// Chunk opens one stored chunk of a project's session: gzip bytes, and
// their size.
func (s *Service) Chunk(ctx context.Context, actor *auth.User, projectID, session string, seq int64) (io.ReadCloser, int64, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, 0, err
	}
	size, err := chunkSize(ctx, s.db, p.ID, session, seq)
	if err != nil {
		return nil, 0, err
	}
	r, err := s.bucket.NewReader(ctx, blobKey(p.ID, session, seq), nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, 0, errNoChunk // deleted by the retention meanwhile
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read replay chunk: %w", err)
	}
	return r, size, nil
}

var (
	errNoSession = errs.NotFound("not_found", "There is no replay of this session.")
	errNoChunk   = errs.NotFound("not_found", "This replay has no such chunk.")
)

// retainBatch is how many sessions one step of the retention deletes.
const retainBatch = 100

// Retain deletes the sessions that have had no upload for the retention.
func (s *Service) Retain(ctx context.Context) error {
	cutoff := s.now() - s.opts.Retention.Milliseconds()
	for {
		old, err := staleSessions(ctx, s.db, cutoff, retainBatch)
		if err != nil {
			return err
		}
		for _, o := range old {
			if err := s.drop(ctx, o.Scope, o.Session); err != nil {
				return err
			}
		}
		if len(old) < retainBatch {
			return nil
		}
	}
}

// DropScope deletes every replay of a scope: for a deleted project.
func (s *Service) DropScope(ctx context.Context, scope string) error {
	return s.drop(ctx, scope, "")
}

// drop deletes a session's replay, or with session "" all of the
// scope's: blobs first, so that a failure leaves rows a later pass finds.
func (s *Service) drop(ctx context.Context, scope, session string) error {
	prefix := "replays/" + scope + "/"
	if session != "" {
		prefix += session + "/"
	}
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("list replay chunks: %w", err)
		}
		if err := s.bucket.Delete(ctx, obj.Key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return fmt.Errorf("delete replay chunk: %w", err)
		}
	}
	return deleteRows(ctx, s.db, scope, session)
}
