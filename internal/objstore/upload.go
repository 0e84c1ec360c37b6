package objstore

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"ecode/internal/errs"
	"ecode/internal/store"
)

// uploadIdle is how long an unfinished upload waits for its next bytes
// before it is forgotten and its bytes removed.
const uploadIdle = 24 * time.Hour

// upload is one resumable upload: its bytes so far in a folder of their own
// under the temp dir, either one file written in order (data) or numbered
// parts written in any order (S3 multipart).
type upload struct {
	sc          Scope
	bucket, key string
	contentType string
	meta        map[string]string
	dir         string

	mu       sync.Mutex // one write at a time; guards the fields below
	received int64
	parts    map[int]Part
	used     time.Time
	done     bool
}

// Part is one part of a multipart upload, as S3 numbers them.
type Part struct {
	Number int
	Size   int64
	MD5    string // hex
}

// uploads are the unfinished uploads of every scope, in memory: a restart
// forgets them, and a client starts over.
type uploads struct {
	mu sync.Mutex
	m  map[string]*upload
}

var errNoUpload = errs.NotFound("upload_not_found", "No such upload (it may have finished, or been idle for a day).")

// StartUpload begins a resumable upload of bucket/key.
func (s *Store) StartUpload(ctx context.Context, sc Scope, bucket, key, contentType string, meta map[string]string) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	if err := s.hasBucket(ctx, s.db, sc, bucket); err != nil {
		return "", err
	}
	s.expireUploads()
	id := store.NewID()
	dir := filepath.Join(s.opts.TempDir, "upload-"+id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("start upload: %w", err)
	}
	u := &upload{sc: sc, bucket: bucket, key: key, contentType: contentType, meta: meta, dir: dir, parts: map[int]Part{}, used: s.now()}
	s.uploads.mu.Lock()
	s.uploads.m[id] = u
	s.uploads.mu.Unlock()
	return id, nil
}

// expireUploads forgets uploads idle for longer than uploadIdle.
func (s *Store) expireUploads() {
	s.uploads.mu.Lock()
	var stale []*upload
	for id, u := range s.uploads.m {
		u.mu.Lock()
		if s.now().Sub(u.used) > uploadIdle {
			u.done = true
			stale = append(stale, u)
			delete(s.uploads.m, id)
		}
		u.mu.Unlock()
	}
	s.uploads.mu.Unlock()
	for _, u := range stale {
		_ = os.RemoveAll(u.dir)
	}
}

// take answers the scope's upload id, locked; the caller unlocks it.
func (s *Store) take(sc Scope, id string) (*upload, error) {
	s.uploads.mu.Lock()
	u := s.uploads.m[id]
	s.uploads.mu.Unlock()
	if u == nil || u.sc != sc {
		return nil, errNoUpload
	}
	u.mu.Lock()
	if u.done {
		u.mu.Unlock()
		return nil, errNoUpload
	}
	u.used = s.now()
	return u, nil
}

// WriteUpload appends r's bytes at offset, which must be what the upload
// has received so far; it answers the bytes received after the write (on
// a mismatch too, with a conflict).
func (s *Store) WriteUpload(ctx context.Context, sc Scope, id string, offset int64, r io.Reader) (int64, error) {
	u, err := s.take(sc, id)
	if err != nil {
		return 0, err
	}
	defer u.mu.Unlock()
	if offset != u.received {
		return u.received, errs.Conflict("upload_offset_mismatch", "The upload has %d bytes; send the next chunk from there.", u.received)
	}
	room, err := s.room(ctx, s.db, sc, u.bucket, u.key)
	if err != nil {
		return u.received, err
	}
	f, err := os.OpenFile(filepath.Join(u.dir, "data"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return u.received, fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return u.received, fmt.Errorf("seek upload: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(r, room-u.received+1))
	if err == nil && u.received+n > room {
		err = errQuota(s.opts.Quota)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		// A chunk counts whole or not at all: the next write overwrites it.
		return u.received, fmt.Errorf("write upload: %w", err)
	}
	u.received += n
	return u.received, nil
}

// UploadStatus answers the bytes an upload has received.
func (s *Store) UploadStatus(ctx context.Context, sc Scope, id string) (int64, error) {
	u, err := s.take(sc, id)
	if err != nil {
		return 0, err
	}
	defer u.mu.Unlock()
	return u.received, nil
}

// FinishUpload stores what the upload received as its object.
func (s *Store) FinishUpload(ctx context.Context, sc Scope, id string) (Object, error) {
	return s.finish(ctx, sc, id, func(u *upload) (io.ReadCloser, error) {
		f, err := os.Open(filepath.Join(u.dir, "data"))
		if os.IsNotExist(err) {
			return io.NopCloser(strings.NewReader("")), nil // nothing was sent: an empty object
		}
		return f, err
	})
}

// finish puts the bytes open reads as the upload's object and forgets the
// upload once stored.
func (s *Store) finish(ctx context.Context, sc Scope, id string, open func(*upload) (io.ReadCloser, error)) (Object, error) {
	u, err := s.take(sc, id)
	if err != nil {
		return Object{}, err
	}
	defer u.mu.Unlock()
	rd, err := open(u)
	if err != nil {
		return Object{}, fmt.Errorf("read upload: %w", err)
	}
	defer rd.Close()
	o, err := s.Put(ctx, sc, u.bucket, u.key, rd, u.contentType, u.meta)
	if err != nil {
		return Object{}, err
	}
	s.forget(id, u)
	return o, nil
}

// forget drops a locked upload and its bytes.
func (s *Store) forget(id string, u *upload) {
	u.done = true
	s.uploads.mu.Lock()
	delete(s.uploads.m, id)
	s.uploads.mu.Unlock()
	_ = os.RemoveAll(u.dir)
}

// AbortUpload forgets an upload and its bytes.
func (s *Store) AbortUpload(ctx context.Context, sc Scope, id string) error {
	u, err := s.take(sc, id)
	if err != nil {
		return err
	}
	defer u.mu.Unlock()
	s.forget(id, u)
	return nil
}

// MaxParts is how many parts a multipart upload may have, as S3 allows.
const MaxParts = 10000

// writePart stores part n of a multipart upload, replacing any earlier
// part n. Parts arrive in parallel: the upload is locked only to record one.
func (s *Store) writePart(ctx context.Context, sc Scope, id string, n int, r io.Reader) (Part, error) {
	if n < 1 || n > MaxParts {
		return Part{}, errs.Invalid("invalid_part", "A part number is 1 to %d.", MaxParts)
	}
	u, err := s.take(sc, id)
	if err != nil {
		return Part{}, err
	}
	dir, bucket, key := u.dir, u.bucket, u.key
	u.mu.Unlock()
	room, err := s.room(ctx, s.db, sc, bucket, key)
	if err != nil {
		return Part{}, err
	}
	f, err := os.CreateTemp(dir, "writing-")
	if err != nil {
		return Part{}, fmt.Errorf("write part: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename below, there is nothing left to remove
	sums := newSums()
	size, err := io.Copy(io.MultiWriter(f, sums), io.LimitReader(r, room+1))
	if err == nil && size > room {
		err = errQuota(s.opts.Quota)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Part{}, fmt.Errorf("write part %d: %w", n, err)
	}
	p := Part{Number: n, Size: size, MD5: sums.md5()}
	if u, err = s.take(sc, id); err != nil {
		return Part{}, err
	}
	defer u.mu.Unlock()
	if err := os.Rename(f.Name(), filepath.Join(dir, "part-"+strconv.Itoa(n))); err != nil {
		return Part{}, fmt.Errorf("keep part %d: %w", n, err)
	}
	u.parts[n] = p
	return p, nil
}

// finishParts stores the named parts, in order, as the upload's object;
// each must have been written with that md5 (S3's ETag of a part).
func (s *Store) finishParts(ctx context.Context, sc Scope, id string, want []Part) (Object, error) {
	return s.finish(ctx, sc, id, func(u *upload) (io.ReadCloser, error) {
		if len(want) == 0 || !slices.IsSortedFunc(want, func(a, b Part) int { return a.Number - b.Number }) {
			return nil, errs.Invalid("invalid_part_order", "List the parts in ascending order, at least one.")
		}
		files := make([]*os.File, 0, len(want))
		readers := make([]io.Reader, 0, len(want))
		closeAll := func() {
			for _, f := range files {
				_ = f.Close()
			}
		}
		for _, w := range want {
			got, ok := u.parts[w.Number]
			if !ok || (w.MD5 != "" && w.MD5 != got.MD5) {
				closeAll()
				return nil, errs.Invalid("invalid_part", "Part %d was not uploaded, or not with that ETag.", w.Number)
			}
			f, err := os.Open(filepath.Join(u.dir, "part-"+strconv.Itoa(w.Number)))
			if err != nil {
				closeAll()
				return nil, err
			}
			files = append(files, f)
			readers = append(readers, f)
		}
		return readCloser{io.MultiReader(readers...), closeAll}, nil
	})
}

type readCloser struct {
	io.Reader
	close func()
}

func (r readCloser) Close() error {
	r.close()
	return nil
}
