package objstore

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ecode/internal/errs"
	"ecode/internal/runtime"
)

// SidecarPort is where a sandbox reaches its scope's objects in Google
// Cloud Storage's JSON API, and Replit's sidecar, on its own loopback: the
// port @replit/object-storage has written in.
const SidecarPort = 1106

// GCSRelay serves GCSHandler to one sandbox of the scope. Commands are told
// to use it through STORAGE_EMULATOR_HOST, which makes the Google clients
// send their requests there, unauthenticated: the relay is bound to its
// scope, and that is the credential.
func (s *Store) GCSRelay(sc Scope) runtime.Relay {
	return loopbackRelay(SidecarPort, s.GCSHandler(sc), "STORAGE_EMULATOR_HOST=http://127.0.0.1:"+strconv.Itoa(SidecarPort))
}

// loopbackRelay serves h on port of a sandbox's loopback, and tells its
// commands env.
func loopbackRelay(port int, h http.Handler, env ...string) runtime.Relay {
	return runtime.Relay{
		Port: port,
		Serve: func(ln net.Listener) {
			srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
			_ = srv.Serve(ln) // ends when the sandbox stops and ln is closed
		},
		Env: env,
	}
}

// GCSHandler answers the part of the GCS JSON API that the Google client
// libraries use for objects (list, get, media download with ranges, delete,
// copy and rewrite, media, multipart and resumable uploads, buckets), at
// /b/... as clients send it under STORAGE_EMULATOR_HOST and at
// /storage/v1/b/..., plus Replit's sidecar. Only the scope's buckets exist.
func (s *Store) GCSHandler(sc Scope) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.serveSidecar(w, r, sc) {
			return
		}
		gcs{s: s, sc: sc, w: w, r: r}.route()
	})
}

// gcs is one request to the GCS API.
type gcs struct {
	s  *Store
	sc Scope
	w  http.ResponseWriter
	r  *http.Request
}

// route picks the operation from the escaped path: object names are
// percent-encoded single segments ("a%2Fb"), so the path is split before
// it is unescaped.
func (g gcs) route() {
	p := g.r.URL.EscapedPath()
	upload := false
	switch {
	case strings.HasPrefix(p, "/upload/storage/v1/"):
		p, upload = strings.TrimPrefix(p, "/upload/storage/v1"), true
	case strings.HasPrefix(p, "/download/storage/v1/"):
		p = strings.TrimPrefix(p, "/download/storage/v1")
	case strings.HasPrefix(p, "/storage/v1/"):
		p = strings.TrimPrefix(p, "/storage/v1")
	}
	raw := strings.Split(strings.TrimPrefix(p, "/"), "/")
	seg := make([]string, len(raw))
	for i, v := range raw {
		u, err := url.PathUnescape(v)
		if err != nil {
			g.fail(errs.Invalid("invalid_path", "The path %q is not validly escaped.", p))
			return
		}
		seg[i] = u
	}
	m := g.r.Method
	switch {
	case seg[0] != "b":
	case upload:
		if len(seg) == 3 && seg[2] == "o" {
			g.upload(seg[1])
			return
		}
	case len(seg) == 1 && m == http.MethodGet:
		g.listBuckets()
		return
	case len(seg) == 1 && m == http.MethodPost:
		g.createBucket()
		return
	case len(seg) == 2 && m == http.MethodGet:
		g.getBucket(seg[1])
		return
	case len(seg) == 2 && m == http.MethodDelete:
		g.deleteBucket(seg[1])
		return
	case len(seg) == 3 && seg[2] == "o" && m == http.MethodGet:
		g.list(seg[1])
		return
	case len(seg) == 3 && seg[2] == "o" && m == http.MethodPost:
		g.upload(seg[1]) // the JSON API's own path also takes uploadType=media
		return
	case len(seg) >= 4 && seg[2] == "o":
		name := strings.Join(seg[3:], "/") // a client that left slashes unescaped
		if m == http.MethodPost {
			if i, ok := copyVerb(seg); ok {
				g.copy(seg[1], strings.Join(seg[3:i], "/"), seg[i+2], strings.Join(seg[i+4:], "/"), seg[i] == "rewriteTo")
				return
			}
		}
		switch m {
		case http.MethodGet:
			g.get(seg[1], name)
			return
		case http.MethodDelete:
			g.delete(seg[1], name)
			return
		}
	}
	g.fail(errs.NotFound("gcs_route", "This storage API has no %s %s.", m, g.r.URL.Path))
}

// copyVerb finds rewriteTo or copyTo in b/{bucket}/o/{object}/{verb}/b/{bucket}/o/{object}.
func copyVerb(seg []string) (int, bool) {
	for i := 4; i+4 < len(seg); i++ {
		if (seg[i] == "rewriteTo" || seg[i] == "copyTo") && seg[i+1] == "b" && seg[i+3] == "o" {
			return i, true
		}
	}
	return 0, false
}

// gcsTime is how GCS writes times: RFC 3339 in UTC with milliseconds.
const gcsTime = "2006-01-02T15:04:05.000Z"

// gcsObject is an object resource in GCS's shape; sizes and generations
// are decimal strings there.
type gcsObject struct {
	Kind           string            `json:"kind"`
	ID             string            `json:"id"`
	SelfLink       string            `json:"selfLink"`
	MediaLink      string            `json:"mediaLink"`
	Name           string            `json:"name"`
	Bucket         string            `json:"bucket"`
	Generation     string            `json:"generation"`
	Metageneration string            `json:"metageneration"`
	ContentType    string            `json:"contentType"`
	StorageClass   string            `json:"storageClass"`
	Size           string            `json:"size"`
	MD5Hash        string            `json:"md5Hash,omitempty"`
	CRC32C         string            `json:"crc32c"`
	ETag           string            `json:"etag"`
	TimeCreated    string            `json:"timeCreated"`
	Updated        string            `json:"updated"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// md5Base64 turns the hex MD5 the store keeps into GCS's base64.
func md5Base64(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}

func (g gcs) object(o Object) gcsObject {
	gen := strconv.FormatInt(o.Updated.UnixMicro(), 10)
	link := g.base() + "/storage/v1/b/" + url.PathEscape(o.Bucket) + "/o/" + url.PathEscape(o.Key)
	t := o.Updated.UTC().Format(gcsTime)
	return gcsObject{
		Kind: "storage#object", ID: o.Bucket + "/" + o.Key + "/" + gen, SelfLink: link, MediaLink: link + "?alt=media&generation=" + gen,
		Name: o.Key, Bucket: o.Bucket, Generation: gen, Metageneration: "1", ContentType: o.ContentType, StorageClass: "STANDARD",
		Size: strconv.FormatInt(o.Size, 10), MD5Hash: md5Base64(o.MD5), CRC32C: o.CRC32C, ETag: o.CRC32C + "/" + gen,
		TimeCreated: t, Updated: t, Metadata: o.Metadata,
	}
}

// base is the address the client reached, for links and upload sessions.
func (g gcs) base() string { return "http://" + g.r.Host }

// gcsBucket is a bucket resource in GCS's shape.
type gcsBucket struct {
	Kind           string `json:"kind"`
	ID             string `json:"id"`
	SelfLink       string `json:"selfLink"`
	Name           string `json:"name"`
	TimeCreated    string `json:"timeCreated"`
	Updated        string `json:"updated"`
	Metageneration string `json:"metageneration"`
	Location       string `json:"location"`
	StorageClass   string `json:"storageClass"`
	ETag           string `json:"etag"`
}

func (g gcs) bucket(b Bucket) gcsBucket {
	t := b.Created.UTC().Format(gcsTime)
	return gcsBucket{
		Kind: "storage#bucket", ID: b.Name, SelfLink: g.base() + "/storage/v1/b/" + url.PathEscape(b.Name), Name: b.Name,
		TimeCreated: t, Updated: t, Metageneration: "1", Location: "US", StorageClass: "STANDARD", ETag: "CAE=",
	}
}

func (g gcs) listBuckets() {
	bs, err := g.s.Buckets(g.r.Context(), g.sc)
	if err != nil {
		g.fail(err)
		return
	}
	items := make([]gcsBucket, len(bs))
	for i, b := range bs {
		items[i] = g.bucket(b)
	}
	g.reply(http.StatusOK, map[string]any{"kind": "storage#buckets", "items": items})
}

func (g gcs) createBucket() {
	var in struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(io.LimitReader(g.r.Body, 1<<20)).Decode(&in); err != nil {
		g.fail(errs.Invalid("invalid_json", "The bucket resource is not valid JSON: %v", err))
		return
	}
	b, err := g.s.CreateBucket(g.r.Context(), g.sc, in.Name)
	if err != nil {
		g.fail(err)
		return
	}
	g.reply(http.StatusOK, g.bucket(b))
}

func (g gcs) getBucket(name string) {
	b, err := g.s.bucket(g.r.Context(), g.sc, name)
	if err != nil {
		g.fail(err)
		return
	}
	g.reply(http.StatusOK, g.bucket(b))
}

func (g gcs) deleteBucket(name string) {
	if err := g.s.DeleteBucket(g.r.Context(), g.sc, name); err != nil {
		g.fail(err)
		return
	}
	g.w.WriteHeader(http.StatusNoContent)
}

// list answers objects.list: prefix, delimiter, pageToken and maxResults
// (at most 1000, as in GCS).
func (g gcs) list(bucket string) {
	q := g.r.URL.Query()
	limit := 1000
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			g.fail(errs.Invalid("invalid_max_results", "maxResults must be a positive number, not %q.", v))
			return
		}
		limit = min(n, limit)
	}
	objs, prefixes, next, err := g.s.List(g.r.Context(), g.sc, bucket, q.Get("prefix"), q.Get("delimiter"), q.Get("pageToken"), limit)
	if err != nil {
		g.fail(err)
		return
	}
	out := struct {
		Kind          string      `json:"kind"`
		Items         []gcsObject `json:"items,omitempty"`
		Prefixes      []string    `json:"prefixes,omitempty"`
		NextPageToken string      `json:"nextPageToken,omitempty"`
	}{Kind: "storage#objects", Prefixes: prefixes, NextPageToken: next}
	for _, o := range objs {
		out.Items = append(out.Items, g.object(o))
	}
	g.reply(http.StatusOK, out)
}

// get answers an object's resource, or with alt=media its bytes: all of
// them with the hashes the client checks them against (x-goog-hash), or a
// single Range of them (206), which clients do not check.
func (g gcs) get(bucket, key string) {
	ctx := g.r.Context()
	o, err := g.s.Stat(ctx, g.sc, bucket, key)
	if err != nil {
		g.fail(err)
		return
	}
	if g.r.URL.Query().Get("alt") != "media" && !strings.HasPrefix(g.r.URL.Path, "/download/") {
		g.reply(http.StatusOK, g.object(o))
		return
	}
	off, n, partial, ok := byteRange(g.r.Header.Get("Range"), o.Size)
	if !ok {
		g.w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(o.Size, 10))
		g.fail(errs.Invalid("range_not_satisfiable", "The range %q is outside the object's %d bytes.", g.r.Header.Get("Range"), o.Size))
		return
	}
	if !partial {
		n = -1
	}
	rc, o, err := g.s.Open(ctx, g.sc, bucket, key, off, n)
	if err != nil {
		g.fail(err)
		return
	}
	defer rc.Close()
	if !partial {
		n = o.Size // the object may have been replaced since it was stat'ed
	}
	h := g.w.Header()
	h.Set("Content-Type", o.ContentType)
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	h.Set("ETag", `"`+o.MD5+`"`)
	h.Set("Last-Modified", o.Updated.UTC().Format(http.TimeFormat))
	h.Set("X-Goog-Generation", strconv.FormatInt(o.Updated.UnixMicro(), 10))
	h.Set("X-Goog-Metageneration", "1")
	h.Set("X-Goog-Stored-Content-Length", strconv.FormatInt(o.Size, 10))
	h.Set("X-Goog-Stored-Content-Encoding", "identity")
	h.Set("X-Goog-Hash", "crc32c="+o.CRC32C+",md5="+md5Base64(o.MD5))
	h.Set("Accept-Ranges", "bytes")
	status := http.StatusOK
	if partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, o.Size))
		status = http.StatusPartialContent
	}
	g.w.WriteHeader(status)
	if _, err := io.Copy(g.w, rc); err != nil {
		slog.DebugContext(ctx, "gcs download cut", "project", g.sc.ProjectID, "bucket", bucket, "err", err)
	}
}

// byteRange reads a Range header against an object of size bytes: the
// offset and length to send, whether that is a part, and false when the
// range cannot be satisfied. Several ranges are answered with the whole
// object, which HTTP allows.
func byteRange(h string, size int64) (off, n int64, partial, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if h == "" || !found || strings.Contains(spec, ",") {
		return 0, size, false, true
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, size, false, true
	}
	if first == "" { // the last n bytes
		k, err := strconv.ParseInt(last, 10, 64)
		if err != nil || k < 0 {
			return 0, size, false, true
		}
		if k == 0 {
			return 0, 0, false, false
		}
		k = min(k, size)
		return size - k, k, true, true
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return 0, size, false, true
	}
	if a >= size {
		return 0, 0, false, false
	}
	end := size - 1
	if last != "" {
		b, err := strconv.ParseInt(last, 10, 64)
		if err != nil || b < a {
			return 0, size, false, true
		}
		end = min(b, end)
	}
	return a, end - a + 1, true, true
}

func (g gcs) delete(bucket, key string) {
	if err := g.s.Delete(g.r.Context(), g.sc, bucket, key); err != nil {
		g.fail(err)
		return
	}
	g.w.WriteHeader(http.StatusNoContent)
}

// copy answers copyTo with the new object and rewriteTo with a finished
// rewrite: the store shares the blob, so either takes one request.
func (g gcs) copy(srcBucket, srcKey, dstBucket, dstKey string, rewrite bool) {
	o, err := g.s.Copy(g.r.Context(), g.sc, srcBucket, srcKey, dstBucket, dstKey)
	if err != nil {
		g.fail(err)
		return
	}
	if !rewrite {
		g.reply(http.StatusOK, g.object(o))
		return
	}
	size := strconv.FormatInt(o.Size, 10)
	g.reply(http.StatusOK, map[string]any{
		"kind": "storage#rewriteResponse", "totalBytesRewritten": size, "objectSize": size, "done": true, "resource": g.object(o),
	})
}

// objectMeta is what an upload says of the object it makes.
type objectMeta struct {
	Name            string            `json:"name"`
	ContentType     string            `json:"contentType"`
	ContentEncoding string            `json:"contentEncoding"`
	Metadata        map[string]string `json:"metadata"`
}

// readMeta decodes an upload's JSON metadata; an empty body is none.
func readMeta(r io.Reader) (objectMeta, error) {
	var m objectMeta
	err := json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(&m)
	if err != nil && !errors.Is(err, io.EOF) {
		return m, errs.Invalid("invalid_json", "The object's metadata is not valid JSON: %v", err)
	}
	return m, checkEncoding(m.ContentEncoding)
}

// checkEncoding refuses objects stored compressed (the clients' compress
// and gzip options): the store keeps no content encoding to serve them
// back with, and a client would read the compressed bytes as the object.
func checkEncoding(enc string) error {
	if enc != "" && enc != "identity" {
		return errs.Invalid("content_encoding_unsupported", "Objects stored with content encoding %q (the compress or gzip option) are not supported; upload them uncompressed.", enc)
	}
	return nil
}

// upload answers the three kinds of upload: media (the body is the
// object), multipart (metadata, then the object) and resumable (a session,
// then its chunks at the session's address).
func (g gcs) upload(bucket string) {
	q := g.r.URL.Query()
	if id := q.Get("upload_id"); id != "" {
		g.resumable(id)
		return
	}
	if g.r.Method != http.MethodPost {
		g.fail(errs.Invalid("invalid_upload", "An upload without upload_id is a POST."))
		return
	}
	switch q.Get("uploadType") {
	case "media", "":
		if err := checkEncoding(g.r.Header.Get("Content-Encoding")); err != nil {
			g.fail(err)
			return
		}
		g.put(bucket, objectMeta{Name: q.Get("name"), ContentType: g.r.Header.Get("Content-Type")}, g.r.Body)
	case "multipart":
		g.multipart(bucket)
	case "resumable":
		g.startResumable(bucket)
	default:
		g.fail(errs.Invalid("invalid_upload_type", "uploadType %q is not one of media, multipart, resumable.", q.Get("uploadType")))
	}
}

func (g gcs) put(bucket string, m objectMeta, body io.Reader) {
	if q := g.r.URL.Query().Get("name"); q != "" {
		m.Name = q
	}
	o, err := g.s.Put(g.r.Context(), g.sc, bucket, m.Name, body, m.ContentType, m.Metadata)
	if err != nil {
		g.fail(err)
		return
	}
	g.reply(http.StatusOK, g.object(o))
}

// multipart reads a multipart/related body: the metadata as JSON, then the
// object with its own Content-Type.
func (g gcs) multipart(bucket string) {
	mt, params, err := mime.ParseMediaType(g.r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		g.fail(errs.Invalid("invalid_multipart", "A multipart upload is multipart/related with a boundary."))
		return
	}
	mr := multipart.NewReader(g.r.Body, params["boundary"])
	part, err := mr.NextPart()
	if err != nil {
		g.fail(errs.Invalid("invalid_multipart", "The upload has no metadata part: %v", err))
		return
	}
	m, err := readMeta(part)
	if err != nil {
		g.fail(err)
		return
	}
	media, err := mr.NextPart()
	if err != nil {
		g.fail(errs.Invalid("invalid_multipart", "The upload has no media part: %v", err))
		return
	}
	if m.ContentType == "" {
		m.ContentType = media.Header.Get("Content-Type")
	}
	g.put(bucket, m, media)
}

// startResumable opens a session and answers its address in Location.
func (g gcs) startResumable(bucket string) {
	m, err := readMeta(g.r.Body)
	if err != nil {
		g.fail(err)
		return
	}
	if q := g.r.URL.Query().Get("name"); q != "" {
		m.Name = q
	}
	if m.ContentType == "" {
		m.ContentType = g.r.Header.Get("X-Upload-Content-Type")
	}
	// An upload that says its size is refused now rather than at its end.
	if n, err := strconv.ParseInt(g.r.Header.Get("X-Upload-Content-Length"), 10, 64); err == nil {
		room, err := g.s.room(g.r.Context(), g.s.db, g.sc, bucket, m.Name)
		if err != nil {
			g.fail(err)
			return
		}
		if n > room {
			g.fail(errQuota(g.s.opts.Quota))
			return
		}
	}
	id, err := g.s.StartUpload(g.r.Context(), g.sc, bucket, m.Name, m.ContentType, m.Metadata)
	if err != nil {
		g.fail(err)
		return
	}
	q := url.Values{"uploadType": {"resumable"}, "name": {m.Name}, "upload_id": {id}}
	g.w.Header().Set("Location", g.base()+"/upload/storage/v1/b/"+url.PathEscape(bucket)+"/o?"+q.Encode())
	g.w.Header().Set("X-GUploader-UploadID", id)
	g.reply(http.StatusOK, struct{}{})
}

// resumable answers a request at a session's address: a chunk (Content-Range
// "bytes first-last/total", with * for a total not yet known or a last byte
// that is wherever the body ends), a status query ("bytes */total" and no
// body), or a cancel (DELETE). Until the last byte arrives the answer is
// 308 with the bytes the session holds; then 200 with the object.
func (g gcs) resumable(id string) {
	ctx := g.r.Context()
	if g.r.Method == http.MethodDelete {
		if err := g.s.AbortUpload(ctx, g.sc, id); err != nil {
			g.fail(err)
			return
		}
		g.w.WriteHeader(499) // what GCS answers a cancelled session
		return
	}
	if g.r.Method != http.MethodPut && g.r.Method != http.MethodPost {
		g.fail(errs.Invalid("invalid_upload", "A session takes PUT requests."))
		return
	}
	cr, err := parseContentRange(g.r.Header.Get("Content-Range"))
	if err != nil {
		g.fail(err)
		return
	}
	have, err := g.s.UploadStatus(ctx, g.sc, id)
	if err != nil {
		g.fail(err)
		return
	}
	if !cr.query {
		if cr.first > have {
			// A gap: write nothing, and say where to go on from.
			g.incomplete(have)
			return
		}
		// Bytes the session already holds (a retried chunk) are skipped.
		if _, err := io.CopyN(io.Discard, g.r.Body, have-cr.first); err != nil {
			g.incomplete(have)
			return
		}
		have, err = g.s.WriteUpload(ctx, g.sc, id, have, g.r.Body)
		if err != nil {
			g.fail(err)
			return
		}
	}
	done := cr.toEnd || (cr.total >= 0 && have >= cr.total)
	if cr.total >= 0 && have > cr.total {
		g.fail(errs.Invalid("upload_too_long", "The session holds %d bytes, more than the %d the upload declared.", have, cr.total))
		return
	}
	if !done {
		g.incomplete(have)
		return
	}
	o, err := g.s.FinishUpload(ctx, g.sc, id)
	if err != nil {
		g.fail(err)
		return
	}
	g.reply(http.StatusOK, g.object(o))
}

// incomplete is the 308 "Resume Incomplete" answer, with the bytes held
// (no Range header when there are none). A client whose HTTP stack would
// take 308 for a redirect (Go's) asks with X-GUploader-No-308 for 200 and
// the status in X-Http-Status-Code-Override instead, as GCS allows.
func (g gcs) incomplete(have int64) {
	h := g.w.Header()
	if have > 0 {
		h.Set("Range", "bytes=0-"+strconv.FormatInt(have-1, 10))
	}
	h.Set("Content-Length", "0")
	if g.r.Header.Get("X-GUploader-No-308") == "yes" {
		h.Set("X-Http-Status-Code-Override", "308")
		g.w.WriteHeader(http.StatusOK)
		return
	}
	g.w.WriteHeader(http.StatusPermanentRedirect)
}

// contentRange is a resumable chunk's Content-Range.
type contentRange struct {
	query bool  // "bytes */total": no bytes, what does the session hold?
	first int64 // the chunk's first byte
	toEnd bool  // "first-*": the body runs to the end of the object
	total int64 // -1 while unknown
}

// parseContentRange reads "bytes a-b/t", "bytes a-b/*", "bytes a-*/t",
// "bytes */t" and "bytes */*"; no header is the whole object in one body.
func parseContentRange(h string) (contentRange, error) {
	if h == "" {
		return contentRange{toEnd: true, total: -1}, nil
	}
	bad := errs.Invalid("invalid_content_range", "Content-Range %q is not bytes first-last/total.", h)
	spec, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return contentRange{}, bad
	}
	rng, tot, ok := strings.Cut(strings.TrimSpace(spec), "/")
	if !ok {
		return contentRange{}, bad
	}
	cr := contentRange{total: -1}
	if tot != "*" {
		n, err := strconv.ParseInt(tot, 10, 64)
		if err != nil || n < 0 {
			return contentRange{}, bad
		}
		cr.total = n
	}
	if rng == "*" {
		cr.query = true
		return cr, nil
	}
	first, last, ok := strings.Cut(rng, "-")
	if !ok {
		return contentRange{}, bad
	}
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return contentRange{}, bad
	}
	cr.first = a
	if last == "*" {
		cr.toEnd = true
		return cr, nil
	}
	b, err := strconv.ParseInt(last, 10, 64)
	if err != nil || b < a || (cr.total >= 0 && b >= cr.total) {
		return contentRange{}, bad
	}
	return cr, nil
}

func (g gcs) reply(status int, v any) {
	g.w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	g.w.WriteHeader(status)
	if err := json.NewEncoder(g.w).Encode(v); err != nil {
		slog.DebugContext(g.r.Context(), "gcs reply cut", "err", err)
	}
}

// gcsStatus is the status and GCS reason of each kind of domain error.
var gcsStatus = map[errs.Kind]struct {
	status int
	reason string
}{
	errs.KindInvalid:         {http.StatusBadRequest, "invalid"},
	errs.KindUnauthenticated: {http.StatusUnauthorized, "required"},
	errs.KindForbidden:       {http.StatusForbidden, "forbidden"},
	errs.KindNotFound:        {http.StatusNotFound, "notFound"},
	errs.KindConflict:        {http.StatusConflict, "conflict"},
	errs.KindTooLarge:        {http.StatusRequestEntityTooLarge, "uploadTooLarge"},
	errs.KindRateLimited:     {http.StatusTooManyRequests, "rateLimitExceeded"},
	errs.KindUnavailable:     {http.StatusServiceUnavailable, "backendError"},
	errs.KindGone:            {http.StatusGone, "gone"},
}

// fail answers err in GCS's error shape, which the client libraries turn
// into their ApiError (code, message, errors).
func (g gcs) fail(err error) {
	status, reason, msg := http.StatusInternalServerError, "backendError", "Something went wrong on our side; it has been logged."
	if e, ok := errs.As(err); ok && e.Kind != errs.KindInternal {
		st := gcsStatus[e.Kind]
		status, reason, msg = st.status, st.reason, e.Message
		if e.Code == "range_not_satisfiable" {
			status, reason = http.StatusRequestedRangeNotSatisfiable, "requestedRangeNotSatisfiable"
		}
	} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.Canceled) {
		// The client hung up mid-body; nobody reads this answer and nothing failed.
		status, reason, msg = 499, "clientClosed", "The request was cut off."
	}
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	slog.Log(g.r.Context(), level, "gcs request failed", "project", g.sc.ProjectID, "env", g.sc.Env,
		"method", g.r.Method, "path", g.r.URL.Path, "status", status, "err", err)
	type item struct {
		Message string `json:"message"`
		Domain  string `json:"domain"`
		Reason  string `json:"reason"`
	}
	var body struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Errors  []item `json:"errors"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Message = status, msg
	body.Error.Errors = []item{{Message: msg, Domain: "global", Reason: reason}}
	g.reply(status, body)
}
