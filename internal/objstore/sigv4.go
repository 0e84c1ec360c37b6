package objstore

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AWS Signature Version 4, as S3 checks it: the request is put back in its
// canonical form from what the client signed, and the signature computed
// with the secret of the access key it names.

const (
	sigAlgorithm     = "AWS4-HMAC-SHA256"
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	streamingSigned  = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	sigSkew          = 15 * time.Minute
	amzDate          = "20060102T150405Z"
	emptySHA256      = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// s3Error is an S3 error response: its code, status and message.
type s3Error struct {
	Status  int
	Code    string
	Message string
}

func (e *s3Error) Error() string { return e.Code + ": " + e.Message }

var (
	errAccessDenied = &s3Error{http.StatusForbidden, "AccessDenied", "Sign requests with the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY this sandbox was given."}
	errBadKeyID     = &s3Error{http.StatusForbidden, "InvalidAccessKeyId", "The access key id is not this project environment's; use AWS_ACCESS_KEY_ID."}
	errBadSignature = &s3Error{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature does not match the one computed with this access key's secret."}
	errBadPayload   = &s3Error{http.StatusBadRequest, "XAmzContentSHA256Mismatch", "The body does not match its x-amz-content-sha256."}
	errBadDigest    = &s3Error{http.StatusBadRequest, "BadDigest", "The body does not match its Content-MD5."}
	errSkewed       = &s3Error{http.StatusForbidden, "RequestTimeTooSkewed", "The request's time is too far from the server's."}
	errExpired      = &s3Error{http.StatusForbidden, "AccessDenied", "Request has expired."}
)

// signed is what a verified request's signature commits to, for the
// chunks of a signed streaming body.
type signed struct {
	key       []byte // the signing key
	date      string // X-Amz-Date
	scope     string // date/region/service/aws4_request
	signature string
	payload   string // x-amz-content-sha256, or UNSIGNED-PAYLOAD when presigned
}

// verify checks r's signature (Authorization header or presigned query)
// against the scope's access key.
func (s *Store) verify(r *http.Request, sc Scope, now time.Time) (signed, error) {
	var (
		cred, signedHeaders, sig, date string
		presigned                      bool
	)
	q := r.URL.Query()
	if auth := r.Header.Get("Authorization"); auth != "" {
		rest, ok := strings.CutPrefix(auth, sigAlgorithm+" ")
		if !ok {
			return signed{}, errAccessDenied
		}
		for f := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
			switch k {
			case "Credential":
				cred = v
			case "SignedHeaders":
				signedHeaders = v
			case "Signature":
				sig = v
			}
		}
		date = r.Header.Get("X-Amz-Date")
	} else if q.Get("X-Amz-Algorithm") == sigAlgorithm {
		presigned = true
		cred, signedHeaders, sig, date = q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders"), q.Get("X-Amz-Signature"), q.Get("X-Amz-Date")
	} else {
		return signed{}, errAccessDenied
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" || sig == "" || signedHeaders == "" {
		return signed{}, errAccessDenied
	}
	if !hmac.Equal([]byte(parts[0]), []byte(s.AccessKey(sc))) {
		return signed{}, errBadKeyID
	}
	at, err := time.Parse(amzDate, date)
	if err != nil || !strings.HasPrefix(date, parts[1]) {
		return signed{}, errAccessDenied
	}
	if presigned {
		secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
		if err != nil || secs < 1 || secs > 7*24*3600 {
			return signed{}, errAccessDenied
		}
		if now.Before(at.Add(-sigSkew)) || now.After(at.Add(time.Duration(secs)*time.Second)) {
			return signed{}, errExpired
		}
	} else if now.Sub(at).Abs() > sigSkew {
		return signed{}, errSkewed
	}
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if presigned {
		payload = unsignedPayload
	} else if payload == "" {
		return signed{}, &s3Error{http.StatusBadRequest, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256."}
	}
	names := strings.Split(signedHeaders, ";")
	if !slices.Contains(names, "host") {
		return signed{}, errAccessDenied
	}
	canonical := strings.Join([]string{
		r.Method,
		canonicalPath(r),
		canonicalQuery(r.URL.RawQuery, presigned),
		canonicalHeaders(r, names),
		signedHeaders,
		payload,
	}, "\n")
	scope := strings.Join(parts[1:], "/")
	sum := sha256.Sum256([]byte(canonical))
	toSign := sigAlgorithm + "\n" + date + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	key := []byte("AWS4" + s.secretKey(parts[0]))
	for _, p := range parts[1:] {
		key = hmacSHA256(key, p)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return signed{}, errBadSignature
	}
	return signed{key: key, date: date, scope: scope, signature: sig, payload: payload}, nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// canonicalPath is the path as the client sent it: S3 clients encode it
// once, and sign that.
func canonicalPath(r *http.Request) string {
	p := r.RequestURI
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if u, err := url.Parse(p); err == nil && u.IsAbs() { // absolute-form request target
		p = u.EscapedPath()
	}
	if p == "" {
		return "/"
	}
	return p
}

// canonicalQuery sorts the query's pairs and encodes them strictly; a
// presigned request's own signature is not part of what it signed.
func canonicalQuery(raw string, presigned bool) string {
	var pairs []string
	for kv := range strings.SplitSeq(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, uriEncode(k)+"="+uriEncode(v))
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "&")
}

// uriEncode encodes all but RFC 3986's unreserved characters, as SigV4 does.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// canonicalHeaders lists the signed headers, lowercase, values trimmed
// and inner runs of spaces made one.
func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, n := range names {
		var vals []string
		switch n {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		default:
			vals = r.Header.Values(n)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(n + ":" + strings.Join(vals, ",") + "\n")
	}
	return b.String()
}

// body answers r's payload as the client meant it: aws-chunked bodies
// decoded (signed chunks checked), a hashed payload checked against its
// hash and Content-MD5 against its digest, each when the body ends.
func (sg signed) body(r *http.Request) (io.Reader, error) {
	var body io.Reader = r.Body
	switch sg.payload {
	case unsignedPayload, streamingTrailer, "STREAMING-UNSIGNED-PAYLOAD":
		if sg.payload != unsignedPayload {
			body = newChunked(r.Body, nil)
		}
	case streamingSigned, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER":
		body = newChunked(r.Body, &sg)
	default:
		want, err := hex.DecodeString(sg.payload)
		if err != nil || len(want) != sha256.Size {
			return nil, &s3Error{http.StatusBadRequest, "InvalidArgument", "x-amz-content-sha256 must be a SHA-256 in hex, UNSIGNED-PAYLOAD or a streaming payload."}
		}
		body = &digestReader{r: body, h: sha256.New(), want: want, fail: errBadPayload}
	}
	for name, h := range checksums {
		if v := r.Header.Get(name); v != "" {
			want, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, &s3Error{http.StatusBadRequest, "InvalidRequest", "The " + name + " header is not base64."}
			}
			body = &digestReader{r: body, h: h(), want: want, fail: errBadDigest}
		}
	}
	if md := r.Header.Get("Content-Md5"); md != "" {
		want, err := base64.StdEncoding.DecodeString(md)
		if err != nil || len(want) != 16 {
			return nil, &s3Error{http.StatusBadRequest, "InvalidDigest", "Content-MD5 must be the base64 of 16 bytes."}
		}
		body = &digestReader{r: body, h: md5.New(), want: want, fail: errBadDigest}
	}
	return body, nil
}

// checksums are the flexible checksums the SDKs send by default, in a
// header or an aws-chunked trailer, that are checked.
var checksums = map[string]func() hash.Hash{
	"x-amz-checksum-crc32":  func() hash.Hash { return crc32.NewIEEE() },
	"x-amz-checksum-crc32c": func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
}

// digestReader passes r through and, at its end, fails unless the bytes
// hash to want.
type digestReader struct {
	r    io.Reader
	h    hash.Hash
	want []byte
	fail error
}

func (d *digestReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	if err == io.EOF && !bytes.Equal(d.h.Sum(nil), d.want) {
		return n, d.fail
	}
	return n, err
}

// chunked decodes an aws-chunked body: hex-size[;chunk-signature=sig]
// CRLF data CRLF ..., a zero-size chunk, optional trailers, CRLF. With sg
// set, each chunk's signature is checked in its chain.
type chunked struct {
	r    *bufio.Reader
	sg   *signed
	prev string
	left int64     // bytes left in the current chunk
	data hash.Hash // of the current chunk, when signed
	sums map[string]hash.Hash
	done bool
}

func newChunked(r io.Reader, sg *signed) *chunked {
	c := &chunked{r: bufio.NewReader(r), sg: sg, sums: map[string]hash.Hash{}}
	if sg != nil {
		c.prev = sg.signature
	}
	for name, h := range checksums {
		c.sums[name] = h()
	}
	return c
}

var errChunk = &s3Error{http.StatusBadRequest, "IncompleteBody", "The aws-chunked body is malformed or cut short."}

func (c *chunked) Read(p []byte) (int, error) {
	for c.left == 0 {
		if c.done {
			return 0, io.EOF
		}
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	n, err := c.r.Read(p[:min(int64(len(p)), c.left)])
	if c.data != nil {
		c.data.Write(p[:n])
	}
	for _, h := range c.sums {
		h.Write(p[:n])
	}
	c.left -= int64(n)
	if err == io.EOF {
		return n, errChunk
	}
	if err == nil && c.left == 0 {
		err = c.endChunk()
	}
	return n, err
}

// next reads a chunk's header (after the CRLF that ends the one before).
func (c *chunked) next() error {
	line, err := c.line()
	if err != nil {
		return errChunk
	}
	size, ext, _ := strings.Cut(line, ";")
	n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
	if err != nil || n < 0 {
		return errChunk
	}
	if c.sg != nil {
		sig, ok := strings.CutPrefix(strings.TrimSpace(ext), "chunk-signature=")
		if !ok {
			return errBadSignature
		}
		c.prev, c.data = sig, sha256.New()
	}
	c.left = n
	if n == 0 {
		if err := c.checkChunk(); err != nil {
			return err
		}
		c.done = true
		for { // trailers, up to the empty line
			line, err := c.line()
			if err == io.EOF && line == "" {
				return nil
			}
			if err != nil {
				return err
			}
			if line == "" {
				return nil
			}
			if err := c.trailer(line); err != nil {
				return err
			}
		}
	}
	return nil
}

// trailer checks a trailing checksum against the bytes decoded.
func (c *chunked) trailer(line string) error {
	name, v, _ := strings.Cut(line, ":")
	h, ok := c.sums[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return nil
	}
	want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || !bytes.Equal(h.Sum(nil), want) {
		return errBadDigest
	}
	return nil
}

// endChunk checks a chunk's signature and reads the CRLF after its data.
func (c *chunked) endChunk() error {
	if err := c.checkChunk(); err != nil {
		return err
	}
	line, err := c.line()
	if err != nil || line != "" {
		return errChunk
	}
	return nil
}

// checkChunk verifies the signature of the chunk just read: it signs the
// one before it and the chunk's hash.
func (c *chunked) checkChunk() error {
	if c.sg == nil {
		return nil
	}
	toSign := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.sg.date + "\n" + c.sg.scope + "\n" + c.sg.signature + "\n" + emptySHA256 + "\n" + hex.EncodeToString(c.data.Sum(nil))
	if !hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(c.sg.key, toSign))), []byte(c.prev)) {
		return errBadSignature
	}
	c.sg.signature = c.prev
	return nil
}

func (c *chunked) line() (string, error) {
	line, err := c.r.ReadString('\n')
	if err != nil && !(err == io.EOF && line == "") {
		return "", errChunk
	}
	if err == io.EOF {
		return "", io.EOF
	}
	return strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), nil
}
