package objstore

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ecode/internal/errs"
)

// S3Handler answers the path-style subset of the S3 REST API that the AWS
// SDKs use for buckets, objects and multipart uploads, for one scope:
// requests must be signed (SigV4) with the scope's access key, and only
// the scope's buckets exist.
func (s *Store) S3Handler(sc Scope) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := s3x{s: s, sc: sc, w: w, r: r}
		sg, err := s.verify(r, sc, s.now())
		if err != nil {
			x.fail(err)
			return
		}
		x.sg = sg
		x.route()
	})
}

// s3x is one S3 request.
type s3x struct {
	s  *Store
	sc Scope
	w  http.ResponseWriter
	r  *http.Request
	sg signed
}

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3Time is how S3 writes times in XML.
const s3Time = "2006-01-02T15:04:05.000Z"

func (x s3x) route() {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(x.r.URL.Path, "/"), "/")
	q := x.r.URL.Query()
	switch m := x.r.Method; {
	case bucket == "" && m == http.MethodGet:
		x.listBuckets()
	case bucket == "":
		x.fail(errMethod)
	case key == "":
		switch {
		case m == http.MethodGet && q.Has("location"):
			x.xml(http.StatusOK, struct {
				XMLName xml.Name `xml:"LocationConstraint"`
				NS      string   `xml:"xmlns,attr"`
			}{NS: s3NS})
		case m == http.MethodGet:
			x.list(bucket)
		case m == http.MethodHead:
			_, err := x.s.bucket(x.r.Context(), x.sc, bucket)
			x.empty(http.StatusOK, err)
		case m == http.MethodPut:
			_, err := x.s.CreateBucket(x.r.Context(), x.sc, bucket)
			if err == nil {
				x.w.Header().Set("Location", "/"+bucket)
			}
			x.empty(http.StatusOK, err)
		case m == http.MethodDelete:
			x.empty(http.StatusNoContent, x.s.DeleteBucket(x.r.Context(), x.sc, bucket))
		case m == http.MethodPost && q.Has("delete"):
			x.deleteMany(bucket)
		default:
			x.fail(errMethod)
		}
	case m == http.MethodGet || m == http.MethodHead:
		x.get(bucket, key)
	case m == http.MethodPut && q.Has("uploadId"):
		x.putPart(q.Get("uploadId"), q.Get("partNumber"))
	case m == http.MethodPut && x.r.Header.Get("X-Amz-Copy-Source") != "":
		x.copy(bucket, key)
	case m == http.MethodPut:
		x.put(bucket, key)
	case m == http.MethodDelete && q.Has("uploadId"):
		x.empty(http.StatusNoContent, x.s.AbortUpload(x.r.Context(), x.sc, q.Get("uploadId")))
	case m == http.MethodDelete:
		err := x.s.Delete(x.r.Context(), x.sc, bucket, key)
		if errors.Is(err, errNoObject) {
			err = nil // S3 answers a delete of nothing as done
		}
		x.empty(http.StatusNoContent, err)
	case m == http.MethodPost && q.Has("uploads"):
		x.startMultipart(bucket, key)
	case m == http.MethodPost && q.Has("uploadId"):
		x.completeMultipart(bucket, key, q.Get("uploadId"))
	default:
		x.fail(errMethod)
	}
}

var errMethod = &s3Error{http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource."}

func (x s3x) listBuckets() {
	bs, err := x.s.Buckets(x.r.Context(), x.sc)
	if err != nil {
		x.fail(err)
		return
	}
	type bucket struct {
		Name         string
		CreationDate string
	}
	out := struct {
		XMLName xml.Name `xml:"ListAllMyBucketsResult"`
		NS      string   `xml:"xmlns,attr"`
		Owner   struct{ ID, DisplayName string }
		Buckets []bucket `xml:"Buckets>Bucket"`
	}{NS: s3NS}
	out.Owner.ID, out.Owner.DisplayName = x.sc.ProjectID, x.sc.ProjectID
	for _, b := range bs {
		out.Buckets = append(out.Buckets, bucket{b.Name, b.Created.Format(s3Time)})
	}
	x.xml(http.StatusOK, out)
}

// list answers ListObjectsV2 (list-type=2) and the first version.
func (x s3x) list(bucket string) {
	q := x.r.URL.Query()
	v2 := q.Get("list-type") == "2"
	max := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			x.fail(&s3Error{http.StatusBadRequest, "InvalidArgument", "max-keys must be a number from 0."})
			return
		}
		max = min(n, 1000)
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	after := q.Get("marker")
	if v2 {
		after = q.Get("start-after")
		if tok := q.Get("continuation-token"); tok != "" {
			b, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				x.fail(&s3Error{http.StatusBadRequest, "InvalidArgument", "The continuation token is not one this server gave."})
				return
			}
			after = string(b)
		}
	}
	var (
		objs     []Object
		prefixes []string
		next     string
		err      error
	)
	if max > 0 {
		objs, prefixes, next, err = x.s.List(x.r.Context(), x.sc, bucket, prefix, delim, after, max)
	} else {
		err = x.s.hasBucket(x.r.Context(), x.s.db, x.sc, bucket)
	}
	if err != nil {
		x.fail(err)
		return
	}
	enc := func(s string) string { return s }
	if q.Get("encoding-type") == "url" {
		enc = func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/") }
	}
	type content struct {
		Key          string
		LastModified string
		ETag         string
		Size         int64
		StorageClass string
	}
	type common struct{ Prefix string }
	out := struct {
		XMLName               xml.Name  `xml:"ListBucketResult"`
		NS                    string    `xml:"xmlns,attr"`
		Name                  string    `xml:"Name"`
		Prefix                string    `xml:"Prefix"`
		Delimiter             string    `xml:"Delimiter,omitempty"`
		MaxKeys               int       `xml:"MaxKeys"`
		EncodingType          string    `xml:"EncodingType,omitempty"`
		IsTruncated           bool      `xml:"IsTruncated"`
		KeyCount              *int      `xml:"KeyCount,omitempty"`
		Marker                *string   `xml:"Marker,omitempty"`
		NextMarker            string    `xml:"NextMarker,omitempty"`
		ContinuationToken     string    `xml:"ContinuationToken,omitempty"`
		NextContinuationToken string    `xml:"NextContinuationToken,omitempty"`
		StartAfter            string    `xml:"StartAfter,omitempty"`
		Contents              []content `xml:"Contents"`
		CommonPrefixes        []common  `xml:"CommonPrefixes"`
	}{NS: s3NS, Name: bucket, Prefix: enc(prefix), Delimiter: enc(delim), MaxKeys: max, EncodingType: q.Get("encoding-type"), IsTruncated: next != ""}
	for _, o := range objs {
		out.Contents = append(out.Contents, content{enc(o.Key), o.Updated.Format(s3Time), etag(o), o.Size, "STANDARD"})
	}
	for _, p := range prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, common{enc(p)})
	}
	if v2 {
		n := len(objs) + len(prefixes)
		out.KeyCount = &n
		out.ContinuationToken, out.StartAfter = q.Get("continuation-token"), enc(q.Get("start-after"))
		if next != "" {
			out.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(next))
		}
	} else {
		m := enc(after)
		out.Marker = &m
		if next != "" && delim != "" {
			out.NextMarker = enc(next)
		}
	}
	x.xml(http.StatusOK, out)
}

func etag(o Object) string { return `"` + o.MD5 + `"` }

// head writes an object's headers.
func (x s3x) head(o Object) {
	h := x.w.Header()
	h.Set("ETag", etag(o))
	h.Set("Last-Modified", o.Updated.Format(http.TimeFormat))
	h.Set("Content-Type", o.ContentType)
	h.Set("Accept-Ranges", "bytes")
	for k, v := range o.Metadata {
		h.Set("X-Amz-Meta-"+k, v)
	}
}

func (x s3x) get(bucket, key string) {
	ctx := x.r.Context()
	o, err := x.s.Stat(ctx, x.sc, bucket, key)
	if err != nil {
		x.fail(err)
		return
	}
	if notModified(x.r, o) {
		x.head(o)
		x.w.WriteHeader(http.StatusNotModified)
		return
	}
	off, n, partial, ok := byteRange(x.r.Header.Get("Range"), o.Size)
	if !ok {
		x.w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(o.Size, 10))
		x.fail(&s3Error{http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable."})
		return
	}
	var rd io.ReadCloser
	if x.r.Method != http.MethodHead && n > 0 {
		if rd, err = x.s.openBlob(ctx, o, off, n); err != nil {
			x.fail(err)
			return
		}
		defer rd.Close()
	}
	x.head(o)
	x.w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if partial {
		x.w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, o.Size))
		status = http.StatusPartialContent
	}
	x.w.WriteHeader(status)
	if rd == nil {
		return
	}
	if _, err := io.Copy(x.w, rd); err != nil {
		slog.DebugContext(ctx, "s3 download cut", "project", x.sc.ProjectID, "bucket", bucket, "err", err)
	}
}

// notModified reports whether r's If-None-Match names the object's ETag.
func notModified(r *http.Request, o Object) bool {
	inm := r.Header.Get("If-None-Match")
	return inm != "" && (inm == "*" || strings.Contains(inm, o.MD5))
}

// meta reads the x-amz-meta-* headers.
func (x s3x) meta() map[string]string {
	var m map[string]string
	for k, vs := range x.r.Header {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok && name != "" {
			if m == nil {
				m = map[string]string{}
			}
			m[name] = strings.Join(vs, ",")
		}
	}
	return m
}

func (x s3x) put(bucket, key string) {
	size := x.r.ContentLength
	if n, err := strconv.ParseInt(x.r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64); err == nil { // aws-chunked
		size = n
	}
	if err := x.s.Fits(x.r.Context(), x.sc, bucket, key, size); err != nil {
		unread(x.w)
		x.fail(err)
		return
	}
	body, err := x.sg.body(x.r)
	if err != nil {
		x.fail(err)
		return
	}
	o, err := x.s.Put(x.r.Context(), x.sc, bucket, key, body, x.r.Header.Get("Content-Type"), x.meta())
	if err != nil {
		x.fail(err)
		return
	}
	x.w.Header().Set("ETag", etag(o))
	x.w.WriteHeader(http.StatusOK)
}

func (x s3x) copy(bucket, key string) {
	src, err := url.PathUnescape(x.r.Header.Get("X-Amz-Copy-Source"))
	src, _, _ = strings.Cut(src, "?versionId=")
	srcBucket, srcKey, ok := strings.Cut(strings.TrimPrefix(src, "/"), "/")
	if err != nil || !ok || srcKey == "" {
		x.fail(&s3Error{http.StatusBadRequest, "InvalidArgument", "x-amz-copy-source must be bucket/key, URL-encoded."})
		return
	}
	ctx := x.r.Context()
	o, err := x.s.Copy(ctx, x.sc, srcBucket, srcKey, bucket, key)
	if err == nil && strings.EqualFold(x.r.Header.Get("X-Amz-Metadata-Directive"), "REPLACE") {
		o, err = x.s.restamp(ctx, x.sc, bucket, key, x.r.Header.Get("Content-Type"), x.meta())
	}
	if err != nil {
		x.fail(err)
		return
	}
	x.xml(http.StatusOK, struct {
		XMLName      xml.Name `xml:"CopyObjectResult"`
		NS           string   `xml:"xmlns,attr"`
		LastModified string
		ETag         string
	}{NS: s3NS, LastModified: o.Updated.Format(s3Time), ETag: etag(o)})
}

func (x s3x) deleteMany(bucket string) {
	body, err := x.sg.body(x.r)
	if err != nil {
		x.fail(err)
		return
	}
	var in struct {
		Quiet   bool
		Objects []struct{ Key string } `xml:"Object"`
	}
	if err := xml.NewDecoder(io.LimitReader(body, 2<<20)).Decode(&in); err != nil || len(in.Objects) > 1000 {
		x.fail(&s3Error{http.StatusBadRequest, "MalformedXML", "The body must be a Delete of at most 1000 objects."})
		return
	}
	ctx := x.r.Context()
	if err := x.s.hasBucket(ctx, x.s.db, x.sc, bucket); err != nil {
		x.fail(err)
		return
	}
	type failed struct{ Key, Code, Message string }
	out := struct {
		XMLName xml.Name `xml:"DeleteResult"`
		NS      string   `xml:"xmlns,attr"`
		Deleted []struct{ Key string }
		Error   []failed
	}{NS: s3NS}
	for _, o := range in.Objects {
		err := x.s.Delete(ctx, x.sc, bucket, o.Key)
		if err != nil && !errors.Is(err, errNoObject) {
			e := s3ErrorOf(err)
			out.Error = append(out.Error, failed{o.Key, e.Code, e.Message})
			continue
		}
		if !in.Quiet {
			out.Deleted = append(out.Deleted, struct{ Key string }{o.Key})
		}
	}
	x.xml(http.StatusOK, out)
}

func (x s3x) startMultipart(bucket, key string) {
	id, err := x.s.StartUpload(x.r.Context(), x.sc, bucket, key, x.r.Header.Get("Content-Type"), x.meta())
	if err != nil {
		x.fail(err)
		return
	}
	x.xml(http.StatusOK, struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		NS       string   `xml:"xmlns,attr"`
		Bucket   string
		Key      string
		UploadId string
	}{NS: s3NS, Bucket: bucket, Key: key, UploadId: id})
}

func (x s3x) putPart(id, number string) {
	n, err := strconv.Atoi(number)
	if err != nil {
		x.fail(&s3Error{http.StatusBadRequest, "InvalidArgument", "partNumber must be a number from 1 to 10000."})
		return
	}
	body, err := x.sg.body(x.r)
	if err != nil {
		x.fail(err)
		return
	}
	p, err := x.s.writePart(x.r.Context(), x.sc, id, n, body)
	if err != nil {
		x.fail(err)
		return
	}
	x.w.Header().Set("ETag", `"`+p.MD5+`"`)
	x.w.WriteHeader(http.StatusOK)
}

func (x s3x) completeMultipart(bucket, key, id string) {
	body, err := x.sg.body(x.r)
	if err != nil {
		x.fail(err)
		return
	}
	var in struct {
		Parts []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := xml.NewDecoder(io.LimitReader(body, 4<<20)).Decode(&in); err != nil {
		x.fail(&s3Error{http.StatusBadRequest, "MalformedXML", "The body must be a CompleteMultipartUpload listing the parts."})
		return
	}
	parts := make([]Part, len(in.Parts))
	for i, p := range in.Parts {
		parts[i] = Part{Number: p.PartNumber, MD5: strings.Trim(p.ETag, `"`)}
	}
	o, err := x.s.finishParts(x.r.Context(), x.sc, id, parts)
	if err != nil {
		x.fail(err)
		return
	}
	x.xml(http.StatusOK, struct {
		XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
		NS       string   `xml:"xmlns,attr"`
		Location string
		Bucket   string
		Key      string
		ETag     string
	}{NS: s3NS, Location: "/" + bucket + "/" + key, Bucket: bucket, Key: key, ETag: etag(o)})
}

func (x s3x) xml(status int, v any) {
	x.w.Header().Set("Content-Type", "application/xml")
	x.w.WriteHeader(status)
	_, _ = io.WriteString(x.w, xml.Header)
	_ = xml.NewEncoder(x.w).Encode(v) // a client gone away reads nothing
}

// empty answers status with no body, or err.
func (x s3x) empty(status int, err error) {
	if err != nil {
		x.fail(err)
		return
	}
	x.w.WriteHeader(status)
}

// s3Codes are the S3 error codes of the store's domain errors.
var s3Codes = map[string]s3Error{
	"bucket_not_found":       {http.StatusNotFound, "NoSuchBucket", ""},
	"object_not_found":       {http.StatusNotFound, "NoSuchKey", ""},
	"upload_not_found":       {http.StatusNotFound, "NoSuchUpload", ""},
	"bucket_exists":          {http.StatusConflict, "BucketAlreadyOwnedByYou", ""},
	"bucket_not_empty":       {http.StatusConflict, "BucketNotEmpty", ""},
	"invalid_bucket_name":    {http.StatusBadRequest, "InvalidBucketName", ""},
	"invalid_part":           {http.StatusBadRequest, "InvalidPart", ""},
	"invalid_part_order":     {http.StatusBadRequest, "InvalidPartOrder", ""},
	"invalid_range":          {http.StatusRequestedRangeNotSatisfiable, "InvalidRange", ""},
	"storage_quota_exceeded": {http.StatusBadRequest, "EntityTooLarge", ""},
}

// s3ErrorOf answers the S3 error for err.
func s3ErrorOf(err error) *s3Error {
	var se *s3Error
	if errors.As(err, &se) {
		return se
	}
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.KindInternal {
		return &s3Error{http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."}
	}
	if c, ok := s3Codes[e.Code]; ok {
		c.Message = e.Message
		return &c
	}
	if e.Kind == errs.KindInvalid {
		return &s3Error{http.StatusBadRequest, "InvalidArgument", e.Message}
	}
	return &s3Error{http.StatusInternalServerError, "InternalError", e.Message}
}

// fail answers err as an S3 error document (headers only for HEAD).
func (x s3x) fail(err error) {
	e := s3ErrorOf(err)
	if e.Status >= 500 {
		slog.ErrorContext(x.r.Context(), "s3 request failed", "project", x.sc.ProjectID, "method", x.r.Method, "path", x.r.URL.Path, "err", err)
	}
	if x.r.Method == http.MethodHead {
		x.w.WriteHeader(e.Status)
		return
	}
	x.xml(e.Status, struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string
		Message   string
		Resource  string
		RequestId string
	}{Code: e.Code, Message: e.Message, Resource: x.r.URL.Path, RequestId: strconv.FormatInt(time.Now().UnixNano(), 36)})
}
