// Package objstore is each project environment's object storage: buckets of
// objects reached from a sandbox through an S3-compatible endpoint and the
// GCS JSON API that Replit's client speaks, and from the Storage pane.
//
// Bytes live in a gocloud.dev blob bucket (local disk by default, S3, GCS or
// Azure in production) under immutable keys b/<id>; which blob an object is
// lives in SQL. Writing never changes a blob: a new one is written, then the
// row is swapped in one transaction, so an object is either its old bytes or
// its new ones, and a snapshot is a copy of rows. A blob is deleted after
// the commit that leaves no object row and no snapshot row naming it; a
// crash between that commit and the delete leaks the blob (nothing reads it).
package objstore

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"ecode/internal/billing"
	"ecode/internal/errs"
	"ecode/internal/store"
)

// DefaultQuota is the bytes of live objects a scope may hold when Options
// does not say.
const DefaultQuota = 10 << 30

// DefaultBucket is the bucket every scope has: created on first use.
const DefaultBucket = "default"

// MaxKeyBytes bounds an object's key, as S3 and GCS do.
const MaxKeyBytes = 1024

// Scope is whose objects a request reaches: a project's environment.
type Scope struct {
	ProjectID string
	Env       string // dev or prod
}

// Options tune a Store.
type Options struct {
	Quota   int64            // bytes of live objects per scope; 0 = DefaultQuota
	TempDir string           // a folder of the store's own, where unfinished uploads keep their bytes
	Meter   billing.Recorder // when set, RunMeter records storage every hour (meter.go)
}

// Bucket is one bucket of a scope with what it holds.
type Bucket struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	Objects int64     `json:"objects"`
	Bytes   int64     `json:"bytes"`
}

// Object is one object's metadata.
type Object struct {
	Bucket      string            `json:"bucket"`
	Key         string            `json:"key"`
	Size        int64             `json:"size"`
	ContentType string            `json:"contentType"`
	MD5         string            `json:"md5"`    // hex
	CRC32C      string            `json:"crc32c"` // base64 of the big-endian Castagnoli sum, as GCS gives it
	Metadata    map[string]string `json:"metadata,omitempty"`
	Updated     time.Time         `json:"updated"`
	blob        string
}

// Usage is what a scope holds against its quota.
type Usage struct {
	Bytes   int64 `json:"bytes"`
	Objects int64 `json:"objects"`
	Quota   int64 `json:"quota"`
}

// Store keeps the scopes' buckets and objects.
type Store struct {
	db    *store.DB
	blobs *blob.Bucket
	key   []byte // derives access keys and tokens
	opts  Options
	now   func() time.Time

	// refs is held for reading while a transaction adds rows naming
	// existing blobs (copy, snapshot, restore) and for writing while a
	// blob is checked unnamed and deleted, so no row can come to name a
	// blob between the check and the delete.
	refs sync.RWMutex

	uploads uploads
}

// New returns the store over db and blobs; key derives the scopes' access
// keys and tokens (derive it from the master key).
func New(db *store.DB, blobs *blob.Bucket, key []byte, opts Options) *Store {
	if db == nil || blobs == nil || len(key) < 32 || opts.TempDir == "" {
		panic("objstore.New: nil db or blobs, short key or no temp dir")
	}
	if opts.Quota == 0 {
		opts.Quota = DefaultQuota
	}
	// Uploads live in memory: those of a process before this one are gone.
	stale, _ := filepath.Glob(filepath.Join(opts.TempDir, "upload-*"))
	for _, dir := range stale {
		_ = os.RemoveAll(dir)
	}
	return &Store{db: db, blobs: blobs, key: key, opts: opts, now: time.Now, uploads: uploads{m: map[string]*upload{}}}
}

var (
	errNoBucket = errs.NotFound("bucket_not_found", "No such bucket.")
	errNoObject = errs.NotFound("object_not_found", "No such object.")
)

// CheckBucketName applies S3's rules: 3 to 63 lowercase letters, digits,
// dots and hyphens, starting and ending with a letter or digit.
func CheckBucketName(name string) error {
	bad := errs.Invalid("invalid_bucket_name", "A bucket name is 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit.")
	if len(name) < 3 || len(name) > 63 || strings.Contains(name, "..") {
		return bad
	}
	for i, c := range []byte(name) {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || i == len(name)-1 || c != '.' && c != '-') {
			return bad
		}
	}
	return nil
}

// CheckKey refuses keys the store cannot hold: empty, over 1024 bytes, not
// UTF-8, or holding NUL.
func CheckKey(key string) error {
	switch {
	case key == "":
		return errs.Invalid("invalid_key", "An object key cannot be empty.")
	case len(key) > MaxKeyBytes:
		return errs.Invalid("invalid_key", "An object key is at most %d bytes; this one has %d.", MaxKeyBytes, len(key))
	case !utf8.ValidString(key) || strings.ContainsRune(key, 0):
		return errs.Invalid("invalid_key", "An object key must be UTF-8 text without NUL characters.")
	}
	return nil
}

// bucketRow is a bucket with its totals.
type bucketRow struct {
	Name    string `db:"name"`
	Created int64  `db:"created_at"`
	Objects int64  `db:"objects"`
	Bytes   int64  `db:"bytes"`
}

func (b bucketRow) bucket() Bucket {
	return Bucket{Name: b.Name, Created: time.UnixMilli(b.Created).UTC(), Objects: b.Objects, Bytes: b.Bytes}
}

const bucketTotals = `SELECT b.name, b.created_at, count(o.key) AS objects, COALESCE(SUM(o.size), 0) AS bytes
	FROM storage_buckets b LEFT JOIN storage_objects o ON o.project_id = b.project_id AND o.env = b.env AND o.bucket = b.name
	WHERE b.project_id = ? AND b.env = ?`

// Buckets lists the scope's buckets by name, creating the default bucket
// when there is none.
func (s *Store) Buckets(ctx context.Context, sc Scope) ([]Bucket, error) {
	var rows []bucketRow
	if err := s.db.Select(ctx, &rows, bucketTotals+` GROUP BY b.name, b.created_at ORDER BY b.name`, sc.ProjectID, sc.Env); err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	if len(rows) == 0 {
		if err := s.ensureDefault(ctx, s.db, sc); err != nil {
			return nil, err
		}
		return s.Buckets(ctx, sc)
	}
	out := make([]Bucket, len(rows))
	for i, r := range rows {
		out[i] = r.bucket()
	}
	return out, nil
}

// bucket answers one bucket with its totals.
func (s *Store) bucket(ctx context.Context, sc Scope, name string) (Bucket, error) {
	if name == DefaultBucket {
		if err := s.ensureDefault(ctx, s.db, sc); err != nil {
			return Bucket{}, err
		}
	}
	var row bucketRow
	err := s.db.Get(ctx, &row, bucketTotals+` AND b.name = ? GROUP BY b.name, b.created_at`, sc.ProjectID, sc.Env, name)
	if store.NoRows(err) {
		return Bucket{}, errNoBucket
	}
	if err != nil {
		return Bucket{}, fmt.Errorf("bucket %s: %w", name, err)
	}
	return row.bucket(), nil
}

func (s *Store) ensureDefault(ctx context.Context, q store.Q, sc Scope) error {
	if _, err := q.Exec(ctx, `INSERT INTO storage_buckets (project_id, env, name, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		sc.ProjectID, sc.Env, DefaultBucket, store.Now()); err != nil {
		return fmt.Errorf("create default bucket: %w", err)
	}
	return nil
}

// hasBucket answers errNoBucket unless the scope has the bucket; the
// default bucket is made on first use.
func (s *Store) hasBucket(ctx context.Context, q store.Q, sc Scope, name string) error {
	if name == DefaultBucket {
		return s.ensureDefault(ctx, q, sc)
	}
	var n int
	if err := q.Get(ctx, &n, `SELECT count(*) FROM storage_buckets WHERE project_id = ? AND env = ? AND name = ?`, sc.ProjectID, sc.Env, name); err != nil {
		return fmt.Errorf("find bucket %s: %w", name, err)
	}
	if n == 0 {
		return errNoBucket
	}
	return nil
}

// CreateBucket adds a bucket to the scope.
func (s *Store) CreateBucket(ctx context.Context, sc Scope, name string) (Bucket, error) {
	if err := CheckBucketName(name); err != nil {
		return Bucket{}, err
	}
	now := store.Now()
	_, err := s.db.Exec(ctx, `INSERT INTO storage_buckets (project_id, env, name, created_at) VALUES (?, ?, ?, ?)`, sc.ProjectID, sc.Env, name, now)
	if store.IsUnique(err) {
		return Bucket{}, errs.Conflict("bucket_exists", "This project already has a bucket named %q.", name)
	}
	if err != nil {
		return Bucket{}, fmt.Errorf("create bucket %s: %w", name, err)
	}
	return Bucket{Name: name, Created: time.UnixMilli(now).UTC()}, nil
}

// DeleteBucket removes an empty bucket.
func (s *Store) DeleteBucket(ctx context.Context, sc Scope, name string) error {
	return s.db.Tx(ctx, func(q store.Q) error {
		var n int64
		if err := q.Get(ctx, &n, `SELECT count(*) FROM storage_objects WHERE project_id = ? AND env = ? AND bucket = ?`, sc.ProjectID, sc.Env, name); err != nil {
			return fmt.Errorf("count objects of %s: %w", name, err)
		}
		if n > 0 {
			return errs.Conflict("bucket_not_empty", "The bucket still holds %d objects; delete them first.", n)
		}
		gone, err := q.Exec(ctx, `DELETE FROM storage_buckets WHERE project_id = ? AND env = ? AND name = ?`, sc.ProjectID, sc.Env, name)
		if err != nil {
			return fmt.Errorf("delete bucket %s: %w", name, err)
		}
		if gone == 0 {
			return errNoBucket
		}
		return nil
	})
}

// objectRow is how an object is stored.
type objectRow struct {
	Bucket      string `db:"bucket"`
	Key         string `db:"key"`
	Blob        string `db:"blob"`
	Size        int64  `db:"size"`
	ContentType string `db:"content_type"`
	MD5         string `db:"md5"`
	CRC32C      string `db:"crc32c"`
	Metadata    string `db:"metadata"`
	Updated     int64  `db:"updated_at"`
}

const objectCols = `bucket, key, blob, size, content_type, md5, crc32c, metadata, updated_at`

func (r objectRow) object() Object {
	o := Object{Bucket: r.Bucket, Key: r.Key, Size: r.Size, ContentType: r.ContentType, MD5: r.MD5, CRC32C: r.CRC32C,
		Updated: time.UnixMilli(r.Updated).UTC(), blob: r.Blob}
	if r.Metadata != "" && r.Metadata != "{}" {
		_ = json.Unmarshal([]byte(r.Metadata), &o.Metadata) // written by put from a map: always valid
	}
	return o
}

func (s *Store) row(ctx context.Context, q store.Q, sc Scope, bucket, key string) (objectRow, error) {
	var r objectRow
	err := q.Get(ctx, &r, `SELECT `+objectCols+` FROM storage_objects WHERE project_id = ? AND env = ? AND bucket = ? AND key = ?`,
		sc.ProjectID, sc.Env, bucket, key)
	if store.NoRows(err) {
		if err := s.hasBucket(ctx, q, sc, bucket); err != nil {
			return r, err
		}
		return r, errNoObject
	}
	if err != nil {
		return r, fmt.Errorf("find object %s/%s: %w", bucket, key, err)
	}
	return r, nil
}

// Stat answers an object's metadata.
func (s *Store) Stat(ctx context.Context, sc Scope, bucket, key string) (Object, error) {
	r, err := s.row(ctx, s.db, sc, bucket, key)
	if err != nil {
		return Object{}, err
	}
	return r.object(), nil
}

// Open reads length bytes of an object from offset (length -1: to the end).
func (s *Store) Open(ctx context.Context, sc Scope, bucket, key string, offset, length int64) (io.ReadCloser, Object, error) {
	o, err := s.Stat(ctx, sc, bucket, key)
	if err != nil {
		return nil, Object{}, err
	}
	rd, err := s.openBlob(ctx, o, offset, length)
	return rd, o, err
}

// openBlob reads o's bytes, as Open does, for an o already looked up.
func (s *Store) openBlob(ctx context.Context, o Object, offset, length int64) (io.ReadCloser, error) {
	if offset < 0 || offset > o.Size || (offset == o.Size && o.Size > 0) {
		return nil, errs.Invalid("invalid_range", "The object has %d bytes; the range starts at %d.", o.Size, offset)
	}
	rd, err := s.blobs.NewRangeReader(ctx, o.blob, offset, length, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, errNoObject // replaced or deleted since it was looked up
	}
	if err != nil {
		return nil, fmt.Errorf("open blob of %s/%s: %w", o.Bucket, o.Key, err)
	}
	return rd, nil
}

// Put stores r as the object, replacing any object of that key: all of it
// or nothing, within the scope's quota.
func (s *Store) Put(ctx context.Context, sc Scope, bucket, key string, r io.Reader, contentType string, meta map[string]string) (Object, error) {
	if err := CheckKey(key); err != nil {
		return Object{}, err
	}
	if err := s.hasBucket(ctx, s.db, sc, bucket); err != nil {
		return Object{}, err
	}
	room, err := s.room(ctx, s.db, sc, bucket, key)
	if err != nil {
		return Object{}, err
	}
	o, err := s.writeBlob(ctx, io.LimitReader(r, room+1), room)
	if err != nil {
		return Object{}, err
	}
	o.Bucket, o.Key, o.ContentType, o.Metadata = bucket, key, contentType, meta
	if o.ContentType == "" {
		o.ContentType = "application/octet-stream"
	}
	old, err := s.swap(ctx, sc, &o)
	if err != nil {
		s.release(ctx, []string{o.blob})
		return Object{}, err
	}
	s.release(ctx, old)
	return o, nil
}

// Fits says whether an object of size bytes (-1: not known) may be put
// at bucket/key now, so that a request declaring more is refused before
// its body is read: a client that waits for 100 Continue sends none of it.
func (s *Store) Fits(ctx context.Context, sc Scope, bucket, key string, size int64) error {
	if size < 0 {
		return nil
	}
	room, err := s.room(ctx, s.db, sc, bucket, key)
	if err != nil {
		return err
	}
	if size > room {
		return errQuota(s.opts.Quota)
	}
	return nil
}

// unread marks w's answer as the last on its connection: a request
// refused before its body is read. Go's client (and others) send the body
// after a final answer to Expect: 100-continue unless told the connection
// closes, and the server closes it on a large unread body, so the client
// could see a reset instead of the answer.
func unread(w http.ResponseWriter) { w.Header().Set("Connection", "close") }

func errQuota(quota int64) error {
	return errs.TooLarge("storage_quota_exceeded", "Object storage holds at most %s per project environment; delete objects first.", humanBytes(quota))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// room answers how many bytes an object of bucket/key may have now: the
// quota less the other live objects of the scope.
func (s *Store) room(ctx context.Context, q store.Q, sc Scope, bucket, key string) (int64, error) {
	var used int64
	if err := q.Get(ctx, &used, `SELECT COALESCE(SUM(size), 0) FROM storage_objects WHERE project_id = ? AND env = ? AND NOT (bucket = ? AND key = ?)`,
		sc.ProjectID, sc.Env, bucket, key); err != nil {
		return 0, fmt.Errorf("measure storage: %w", err)
	}
	if used >= s.opts.Quota {
		return 0, nil
	}
	return s.opts.Quota - used, nil
}

// writeBlob copies r into a new blob, summing it; over max bytes, or on
// any failure, the blob is not kept.
func (s *Store) writeBlob(ctx context.Context, r io.Reader, max int64) (Object, error) {
	o := Object{blob: "b/" + store.NewID()}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.blobs.NewWriter(wctx, o.blob, nil)
	if err != nil {
		return o, fmt.Errorf("create blob: %w", err)
	}
	sums := newSums()
	n, err := io.Copy(io.MultiWriter(w, sums), r)
	if err == nil && n > max {
		err = errQuota(s.opts.Quota)
	}
	if err != nil {
		cancel() // a writer closed after its context ends discards what it had
		_ = w.Close()
		return o, fmt.Errorf("write blob: %w", err)
	}
	if err := w.Close(); err != nil {
		return o, fmt.Errorf("write blob: %w", err)
	}
	o.Size, o.MD5, o.CRC32C = n, sums.md5(), sums.crc32c()
	return o, nil
}

// sums is an object's checksums, computed as its bytes pass.
type sums struct{ m, c hash.Hash }

func newSums() *sums { return &sums{md5.New(), crc32.New(crc32.MakeTable(crc32.Castagnoli))} }

func (h *sums) Write(p []byte) (int, error) {
	h.m.Write(p)
	h.c.Write(p)
	return len(p), nil
}

func (h *sums) md5() string { return hex.EncodeToString(h.m.Sum(nil)) }

func (h *sums) crc32c() string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, h.c.(hash.Hash32).Sum32()))
}

// swap makes o (its blob written) the object of its key, within the quota,
// stamping its time, and answers the blob it replaced, for the caller to
// release.
func (s *Store) swap(ctx context.Context, sc Scope, o *Object) (old []string, err error) {
	meta, err := encodeMeta(o.Metadata)
	if err != nil {
		return nil, err
	}
	now := store.Now()
	o.Updated = time.UnixMilli(now).UTC()
	err = s.db.Tx(ctx, func(q store.Q) error {
		if err := s.lockScope(ctx, q, sc); err != nil {
			return err
		}
		if err := s.hasBucket(ctx, q, sc, o.Bucket); err != nil {
			return err
		}
		var prev []string
		if err := q.Select(ctx, &prev, `SELECT blob FROM storage_objects WHERE project_id = ? AND env = ? AND bucket = ? AND key = ?`,
			sc.ProjectID, sc.Env, o.Bucket, o.Key); err != nil {
			return fmt.Errorf("find object: %w", err)
		}
		room, err := s.room(ctx, q, sc, o.Bucket, o.Key)
		if err != nil {
			return err
		}
		if o.Size > room {
			return errQuota(s.opts.Quota)
		}
		if _, err := q.Exec(ctx, `INSERT INTO storage_objects (project_id, env, `+objectCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (project_id, env, bucket, key) DO UPDATE SET blob = excluded.blob, size = excluded.size, content_type = excluded.content_type,
				md5 = excluded.md5, crc32c = excluded.crc32c, metadata = excluded.metadata, updated_at = excluded.updated_at`,
			sc.ProjectID, sc.Env, o.Bucket, o.Key, o.blob, o.Size, o.ContentType, o.MD5, o.CRC32C, meta, now); err != nil {
			return fmt.Errorf("store object: %w", err)
		}
		old = prev
		return nil
	})
	return old, err
}

// lockScope makes concurrent writes of one scope take turns until their
// transactions end, so that each checks the quota against the others'
// bytes. SQLite's transactions take turns already (they begin immediate).
func (s *Store) lockScope(ctx context.Context, q store.Q, sc Scope) error {
	if s.db.Dialect != store.Postgres {
		return nil
	}
	if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, "objstore/"+sc.ProjectID+"/"+sc.Env); err != nil {
		return fmt.Errorf("lock storage of %s: %w", sc.ProjectID, err)
	}
	return nil
}

// Delete removes an object.
func (s *Store) Delete(ctx context.Context, sc Scope, bucket, key string) error {
	var old []string
	err := s.db.Tx(ctx, func(q store.Q) error {
		r, err := s.row(ctx, q, sc, bucket, key)
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `DELETE FROM storage_objects WHERE project_id = ? AND env = ? AND bucket = ? AND key = ?`,
			sc.ProjectID, sc.Env, bucket, key); err != nil {
			return fmt.Errorf("delete object: %w", err)
		}
		old = []string{r.Blob}
		return nil
	})
	if err != nil {
		return err
	}
	s.release(ctx, old)
	return nil
}

// DeletePrefix removes every object of the bucket whose key starts with
// prefix (a folder) and answers how many.
func (s *Store) DeletePrefix(ctx context.Context, sc Scope, bucket, prefix string) (int64, error) {
	var old []string
	err := s.db.Tx(ctx, func(q store.Q) error {
		if err := s.hasBucket(ctx, q, sc, bucket); err != nil {
			return err
		}
		where := `WHERE project_id = ? AND env = ? AND bucket = ? AND substr(key, 1, ?) = ?`
		args := []any{sc.ProjectID, sc.Env, bucket, utf8.RuneCountInString(prefix), prefix} // substr counts characters
		if err := q.Select(ctx, &old, `SELECT blob FROM storage_objects `+where, args...); err != nil {
			return fmt.Errorf("find objects under %q: %w", prefix, err)
		}
		if _, err := q.Exec(ctx, `DELETE FROM storage_objects `+where, args...); err != nil {
			return fmt.Errorf("delete objects under %q: %w", prefix, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.release(ctx, old)
	return int64(len(old)), nil
}

// Copy makes dstBucket/dstKey an object with srcBucket/srcKey's bytes and
// metadata, sharing its blob.
func (s *Store) Copy(ctx context.Context, sc Scope, srcBucket, srcKey, dstBucket, dstKey string) (Object, error) {
	if err := CheckKey(dstKey); err != nil {
		return Object{}, err
	}
	old, err := s.share(ctx, sc, srcBucket, srcKey, dstBucket, dstKey)
	if err != nil {
		return Object{}, err
	}
	s.release(ctx, old)
	return s.Stat(ctx, sc, dstBucket, dstKey)
}

// share points dst at src's blob and answers the blob dst had.
func (s *Store) share(ctx context.Context, sc Scope, srcBucket, srcKey, dstBucket, dstKey string) ([]string, error) {
	// The source's row may go between reading it and the new row's
	// commit, but its blob cannot: release waits on refs.
	s.refs.RLock()
	defer s.refs.RUnlock()
	r, err := s.row(ctx, s.db, sc, srcBucket, srcKey)
	if err != nil {
		return nil, err
	}
	o := r.object()
	o.Bucket, o.Key = dstBucket, dstKey
	return s.swap(ctx, sc, &o)
}

// restamp replaces an object's content type and metadata (its bytes stay).
func (s *Store) restamp(ctx context.Context, sc Scope, bucket, key, contentType string, meta map[string]string) (Object, error) {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	enc, err := encodeMeta(meta)
	if err != nil {
		return Object{}, err
	}
	if _, err := s.db.Exec(ctx, `UPDATE storage_objects SET content_type = ?, metadata = ?, updated_at = ? WHERE project_id = ? AND env = ? AND bucket = ? AND key = ?`,
		contentType, enc, store.Now(), sc.ProjectID, sc.Env, bucket, key); err != nil {
		return Object{}, fmt.Errorf("update object %s/%s: %w", bucket, key, err)
	}
	return s.Stat(ctx, sc, bucket, key)
}

func encodeMeta(meta map[string]string) (string, error) {
	if len(meta) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(meta)
	if err != nil {
		return "", fmt.Errorf("encode metadata: %w", err)
	}
	return string(b), nil
}

// List answers the bucket's objects whose keys start with prefix, after
// the key or folder after, in byte order, at most limit of objects and
// folders together. With a delimiter, keys holding it past the prefix are
// answered once as a folder (the prefix up to and with the delimiter).
// next is where the next page starts ("" at the end).
func (s *Store) List(ctx context.Context, sc Scope, bucket, prefix, delimiter, after string, limit int) (objs []Object, prefixes []string, next string, err error) {
	if err := s.hasBucket(ctx, s.db, sc, bucket); err != nil {
		return nil, nil, "", err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	folder := func(key string) string {
		if delimiter == "" || !strings.HasPrefix(key, prefix) {
			return ""
		}
		if i := strings.Index(key[len(prefix):], delimiter); i >= 0 {
			return key[:len(prefix)+i+len(delimiter)]
		}
		return ""
	}
	// A page that ended on a folder, or on a key inside one, goes on past it.
	skip := folder(after)
	cursor, inclusive := after, false
	if prefix > after {
		cursor, inclusive = prefix, true
	}
	const batch = 500
	last := ""
	for n := 0; ; {
		op := ">"
		if inclusive {
			op = ">="
		}
		var rows []objectRow
		if err := s.db.Select(ctx, &rows, `SELECT `+objectCols+` FROM storage_objects WHERE project_id = ? AND env = ? AND bucket = ? AND key `+op+` ?
			ORDER BY key LIMIT ?`, sc.ProjectID, sc.Env, bucket, cursor, batch); err != nil {
			return nil, nil, "", fmt.Errorf("list %s: %w", bucket, err)
		}
		for _, r := range rows {
			if !strings.HasPrefix(r.Key, prefix) {
				return objs, prefixes, "", nil
			}
			if skip != "" && strings.HasPrefix(r.Key, skip) {
				continue
			}
			if n == limit {
				return objs, prefixes, last, nil
			}
			n++
			if f := folder(r.Key); f != "" {
				prefixes = append(prefixes, f)
				skip, last = f, f
				continue
			}
			objs = append(objs, r.object())
			last = r.Key
		}
		if len(rows) < batch {
			return objs, prefixes, "", nil
		}
		cursor, inclusive = rows[len(rows)-1].Key, false
		// Jump over the rest of a folder when its end is a valid string.
		if end, ok := successor(skip); ok && end > cursor {
			cursor, inclusive = end, true
		}
	}
}

// successor answers the least string greater than every string starting
// with p, when that is p with its last byte raised and still ASCII.
func successor(p string) (string, bool) {
	if p == "" || p[len(p)-1] >= 0x7f {
		return "", false
	}
	return p[:len(p)-1] + string(p[len(p)-1]+1), true
}

// Usage answers what the scope holds against its quota.
func (s *Store) Usage(ctx context.Context, sc Scope) (Usage, error) {
	u := Usage{Quota: s.opts.Quota}
	var row struct {
		Bytes   int64 `db:"bytes"`
		Objects int64 `db:"objects"`
	}
	if err := s.db.Get(ctx, &row, `SELECT COALESCE(SUM(size), 0) AS bytes, count(*) AS objects FROM storage_objects WHERE project_id = ? AND env = ?`,
		sc.ProjectID, sc.Env); err != nil {
		return u, fmt.Errorf("measure storage: %w", err)
	}
	u.Bytes, u.Objects = row.Bytes, row.Objects
	return u, nil
}

// release deletes the blobs no object and no snapshot names any more. It
// runs after the commit that dropped the rows, and is not undone if the
// caller's request ends: the rows are gone either way.
func (s *Store) release(ctx context.Context, blobs []string) {
	if len(blobs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	s.refs.Lock()
	defer s.refs.Unlock()
	slices.Sort(blobs)
	for _, b := range slices.Compact(blobs) {
		var named int
		if err := s.db.Get(ctx, &named, `SELECT (SELECT count(*) FROM storage_objects WHERE blob = ?) + (SELECT count(*) FROM storage_snapshot_objects WHERE blob = ?)`,
			b, b); err != nil {
			slog.ErrorContext(ctx, "objstore: check blob", "blob", b, "err", err)
			continue
		}
		if named > 0 {
			continue
		}
		if err := s.blobs.Delete(ctx, b); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			slog.ErrorContext(ctx, "objstore: delete blob", "blob", b, "err", err)
		}
	}
}
