package objstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"cloud.google.com/go/storage"
	"gocloud.dev/blob/fileblob"
	"google.golang.org/api/iterator"

	"ecode/internal/store/testdb"
)

// gcsStore answers a store over a fresh database and blob folder, with the
// given quota (0: the default).
func gcsStore(t *testing.T, e testdb.Engine, quota int64) *Store {
	t.Helper()
	blobs, err := fileblob.OpenBucket(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	return New(testdb.Open(t, e), blobs, bytes.Repeat([]byte{9}, 32), Options{Quota: quota, TempDir: t.TempDir()})
}

// gcsClient speaks to one scope's handler as the Google clients do.
type gcsClient struct {
	t    *testing.T
	base string
}

func gcsServe(t *testing.T, s *Store, sc Scope) gcsClient {
	srv := httptest.NewServer(s.GCSHandler(sc))
	t.Cleanup(srv.Close)
	return gcsClient{t, srv.URL}
}

type gcsResponse struct {
	status int
	header http.Header
	body   []byte
}

func (c gcsClient) do(method, path string, header map[string]string, body io.Reader) gcsResponse {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return gcsResponse{res.StatusCode, res.Header, b}
}

func (r gcsResponse) want(t *testing.T, status int) gcsResponse {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (r gcsResponse) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// wantError checks GCS's error shape, which the client libraries read.
func (r gcsResponse) wantError(t *testing.T, status int) {
	t.Helper()
	r.want(t, status)
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	r.decode(t, &e)
	if e.Error.Code != status || e.Error.Message == "" || len(e.Error.Errors) != 1 || e.Error.Errors[0].Reason == "" {
		t.Fatalf("error body %s", r.body)
	}
}

// gcsSums are GCS's base64 md5Hash and crc32c of b.
func gcsSums(b []byte) (md5Hash, crc string) {
	m := md5.Sum(b)
	c := crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
	return base64.StdEncoding.EncodeToString(m[:]), base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, c))
}

// Awkward keys go in the path as one escaped segment, and in the upload's
// query; both API prefixes answer; downloads carry the hashes the client
// checks, and ranges; lists page and fold folders.
func TestGCSObjects(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			c := gcsServe(t, gcsStore(t, e, 0), Scope{"p1", "dev"})
			keys := []string{"a/b c.txt", "a/ünï/cödé", "a/d%2F?#&=;+", "top"}
			for i, k := range keys {
				body := strings.Repeat(strconv.Itoa(i), 10+i)
				var o gcsObject
				c.do("POST", "/upload/storage/v1/b/default/o?uploadType=media&name="+url.QueryEscape(k), map[string]string{"Content-Type": "text/plain"}, strings.NewReader(body)).
					want(t, 200).decode(t, &o)
				md5Hash, crc := gcsSums([]byte(body))
				if o.Name != k || o.Bucket != "default" || o.Size != strconv.Itoa(len(body)) || o.MD5Hash != md5Hash || o.CRC32C != crc || o.ContentType != "text/plain" || o.Kind != "storage#object" {
					t.Fatalf("uploaded %q: %+v", k, o)
				}
				for _, prefix := range []string{"", "/storage/v1"} {
					var got gcsObject
					c.do("GET", prefix+"/b/default/o/"+url.PathEscape(k), nil, nil).want(t, 200).decode(t, &got)
					if got.Name != k || got.Size != o.Size || got.Generation != o.Generation {
						t.Fatalf("metadata of %q at %q: %+v, uploaded %+v", k, prefix, got, o)
					}
				}
				res := c.do("GET", "/b/default/o/"+url.PathEscape(k)+"?alt=media", map[string]string{"Accept-Encoding": "gzip"}, nil).want(t, 200)
				if py := c.do("GET", "/download/storage/v1/b/default/o/"+url.PathEscape(k)+"?alt=media", nil, nil).want(t, 200); string(py.body) != body {
					t.Fatalf("download of %q at Python's path: %q", k, py.body)
				}
				if string(res.body) != body || res.header.Get("X-Goog-Hash") != "crc32c="+crc+",md5="+md5Hash ||
					res.header.Get("X-Goog-Stored-Content-Encoding") != "identity" || res.header.Get("Content-Encoding") != "" {
					t.Fatalf("download of %q: %q %v", k, res.body, res.header)
				}
			}

			// Ranges: a part, the tail, and one past the end.
			res := c.do("GET", "/b/default/o/top?alt=media", map[string]string{"Range": "bytes=2-4"}, nil).want(t, 206)
			if string(res.body) != "333" || res.header.Get("Content-Range") != "bytes 2-4/13" {
				t.Fatalf("range: %q %v", res.body, res.header)
			}
			if res := c.do("GET", "/b/default/o/top?alt=media", map[string]string{"Range": "bytes=-20"}, nil).want(t, 206); len(res.body) != 13 {
				t.Fatalf("tail range: %q", res.body)
			}
			c.do("GET", "/b/default/o/top?alt=media", map[string]string{"Range": "bytes=13-"}, nil).wantError(t, 416)

			// A list pages by one, folding a/ into a prefix; with a prefix it
			// goes inside.
			var names []string
			token := ""
			for range 5 {
				var page struct {
					Items         []gcsObject `json:"items"`
					Prefixes      []string    `json:"prefixes"`
					NextPageToken string      `json:"nextPageToken"`
				}
				c.do("GET", "/b/default/o?delimiter=/&maxResults=1&pageToken="+url.QueryEscape(token), nil, nil).want(t, 200).decode(t, &page)
				for _, o := range page.Items {
					names = append(names, o.Name)
				}
				names = append(names, page.Prefixes...)
				if token = page.NextPageToken; token == "" {
					break
				}
			}
			if !slices.Equal(names, []string{"a/", "top"}) {
				t.Fatalf("paged list: %q", names)
			}
			var inside struct {
				Items []gcsObject `json:"items"`
			}
			c.do("GET", "/storage/v1/b/default/o?prefix="+url.QueryEscape("a/"), nil, nil).want(t, 200).decode(t, &inside)
			names = names[:0]
			for _, o := range inside.Items {
				names = append(names, o.Name)
			}
			if want := slices.Sorted(slices.Values(keys[:3])); !slices.Equal(names, want) {
				t.Fatalf("list under a/: %q, want %q", names, want)
			}

			// rewriteTo and copyTo, as the Node client sends them.
			var rw struct {
				Done     bool      `json:"done"`
				Resource gcsObject `json:"resource"`
			}
			c.do("POST", "/b/default/o/"+url.PathEscape(keys[0])+"/rewriteTo/b/default/o/"+url.PathEscape("copy/ö 1"), map[string]string{"Content-Type": "application/json"}, strings.NewReader("{}")).
				want(t, 200).decode(t, &rw)
			if !rw.Done || rw.Resource.Name != "copy/ö 1" || rw.Resource.Size != "10" {
				t.Fatalf("rewrite: %+v", rw)
			}
			var cp gcsObject
			c.do("POST", "/storage/v1/b/default/o/top/copyTo/b/default/o/"+url.PathEscape("copy/2"), nil, nil).want(t, 200).decode(t, &cp)
			if res := c.do("GET", "/b/default/o/"+url.PathEscape("copy/2")+"?alt=media", nil, nil).want(t, 200); cp.Name != "copy/2" || string(res.body) != strings.Repeat("3", 13) {
				t.Fatalf("copy: %+v %q", cp, res.body)
			}

			// Delete; then the object, and a missing one, are 404 in GCS's shape.
			c.do("DELETE", "/b/default/o/"+url.PathEscape(keys[1]), nil, nil).want(t, 204)
			c.do("GET", "/b/default/o/"+url.PathEscape(keys[1])+"?alt=media", nil, nil).wantError(t, 404)
			c.do("DELETE", "/b/default/o/"+url.PathEscape(keys[1]), nil, nil).wantError(t, 404)
			c.do("GET", "/b/default/o/nope", nil, nil).wantError(t, 404)
			c.do("POST", "/upload/storage/v1/b/default/o?uploadType=media&name=", nil, strings.NewReader("x")).wantError(t, 400)
		})
	}
}

// A multipart/related upload: the metadata part names the object and its
// metadata, the media part has its own type. Compressed uploads are refused.
func TestGCSMultipartUpload(t *testing.T) {
	c := gcsServe(t, gcsStore(t, testdb.Engines(t)[0], 0), Scope{"p1", "dev"})
	body := "--XX\r\nContent-Type: application/json\r\n\r\n" + `{"name":"notes/é.md","metadata":{"owner":"ada"}}` +
		"\r\n--XX\r\nContent-Type: text/markdown\r\n\r\n# hi\r\n--XX--\r\n"
	var o gcsObject
	c.do("POST", "/upload/storage/v1/b/default/o?uploadType=multipart", map[string]string{"Content-Type": "multipart/related; boundary=XX"}, strings.NewReader(body)).
		want(t, 200).decode(t, &o)
	if o.Name != "notes/é.md" || o.ContentType != "text/markdown" || o.Size != "4" || o.Metadata["owner"] != "ada" {
		t.Fatalf("multipart: %+v", o)
	}
	if res := c.do("GET", "/b/default/o/"+url.PathEscape("notes/é.md")+"?alt=media", nil, nil).want(t, 200); string(res.body) != "# hi" {
		t.Fatalf("download: %q", res.body)
	}

	// Compressed objects are refused, whichever way the upload says so.
	gz := strings.Replace(body, `"metadata"`, `"contentEncoding":"gzip","metadata"`, 1)
	c.do("POST", "/upload/storage/v1/b/default/o?uploadType=multipart&name=z", map[string]string{"Content-Type": "multipart/related; boundary=XX"}, strings.NewReader(gz)).wantError(t, 400)
	c.do("POST", "/upload/storage/v1/b/default/o?uploadType=resumable&name=z", nil, strings.NewReader(`{"contentEncoding":"gzip"}`)).wantError(t, 400)
	c.do("POST", "/upload/storage/v1/b/default/o?uploadType=media&name=z", map[string]string{"Content-Encoding": "gzip"}, strings.NewReader("x")).wantError(t, 400)
	c.do("GET", "/b/default/o/z", nil, nil).wantError(t, 404)
}

// cutPut sends a chunk's headers and only part of its body, then hangs up,
// as a dropped connection does.
func cutPut(t *testing.T, base, path, contentRange string, length int, sent []byte) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Range: %s\r\nContent-Length: %d\r\n\r\n", path, u.Host, contentRange, length)
	if _, err := conn.Write(sent); err != nil {
		t.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	// Wait for the server to have read what there was and given up.
	_, _ = http.ReadResponse(bufio.NewReader(conn), nil)
	conn.Close()
}

// A resumable upload answers 308 with what it holds after each chunk; a
// chunk cut mid-way counts for nothing, the status query says where to go
// on, a gap writes nothing, a resent chunk is not doubled, and nothing is
// visible until the last byte.
func TestGCSResumableUpload(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			c := gcsServe(t, gcsStore(t, e, 0), Scope{"p1", "dev"})
			data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
			key := "big/ファイル 1.bin"
			res := c.do("POST", "/upload/storage/v1/b/default/o?uploadType=resumable&name="+url.QueryEscape(key),
				map[string]string{"Content-Type": "application/json", "X-Upload-Content-Type": "application/x-test"}, strings.NewReader(`{"metadata":{"k":"v"}}`)).want(t, 200)
			loc, err := url.Parse(res.header.Get("Location"))
			if err != nil || loc.Query().Get("upload_id") == "" {
				t.Fatalf("session: %v %v", res.header, err)
			}
			session := loc.RequestURI()
			put := func(contentRange string, body []byte) gcsResponse {
				return c.do("PUT", session, map[string]string{"Content-Range": contentRange}, bytes.NewReader(body))
			}
			status := func() string {
				return put("bytes */*", nil).want(t, 308).header.Get("Range")
			}
			if r := status(); r != "" {
				t.Fatalf("a new session holds %q", r)
			}
			const chunk = 256 << 10
			if r := put(fmt.Sprintf("bytes 0-%d/*", chunk-1), data[:chunk]).want(t, 308).header.Get("Range"); r != fmt.Sprintf("bytes=0-%d", chunk-1) {
				t.Fatalf("after a chunk: %q", r)
			}

			// The second chunk is cut half-way: the session keeps the first.
			cutPut(t, c.base, session, fmt.Sprintf("bytes %d-%d/*", chunk, 2*chunk-1), chunk, data[chunk:chunk+chunk/2])
			if r := status(); r != fmt.Sprintf("bytes=0-%d", chunk-1) {
				t.Fatalf("after a cut chunk: %q", r)
			}
			c.do("GET", "/b/default/o/"+url.PathEscape(key), nil, nil).wantError(t, 404)

			// A chunk past what is held writes nothing.
			if r := put(fmt.Sprintf("bytes %d-%d/*", 2*chunk, 3*chunk-1), data[2*chunk:3*chunk]).want(t, 308).header.Get("Range"); r != fmt.Sprintf("bytes=0-%d", chunk-1) {
				t.Fatalf("after a gap: %q", r)
			}
			// A chunk resent from an earlier offset adds only its new bytes.
			if r := put(fmt.Sprintf("bytes %d-%d/*", chunk/2, 2*chunk-1), data[chunk/2:2*chunk]).want(t, 308).header.Get("Range"); r != fmt.Sprintf("bytes=0-%d", 2*chunk-1) {
				t.Fatalf("after an overlapping chunk: %q", r)
			}
			var o gcsObject
			put(fmt.Sprintf("bytes %d-%d/%d", 2*chunk, len(data)-1, len(data)), data[2*chunk:]).want(t, 200).decode(t, &o)
			md5Hash, crc := gcsSums(data)
			if o.Name != key || o.Size != strconv.Itoa(len(data)) || o.MD5Hash != md5Hash || o.CRC32C != crc || o.ContentType != "application/x-test" || o.Metadata["k"] != "v" {
				t.Fatalf("finished: %+v", o)
			}
			if res := c.do("GET", "/b/default/o/"+url.PathEscape(key)+"?alt=media", nil, nil).want(t, 200); !bytes.Equal(res.body, data) {
				t.Fatalf("download: %d bytes", len(res.body))
			}
			put("bytes */*", nil).wantError(t, 404) // the session is gone

			// The Node client's one-request form, "bytes 0-*/*", and a cancel.
			res = c.do("POST", "/upload/storage/v1/b/default/o?uploadType=resumable&name=one", nil, nil).want(t, 200)
			c.do("PUT", res.header.Get("Location")[len(c.base):], map[string]string{"Content-Range": "bytes 0-*/*"}, strings.NewReader("whole")).want(t, 200).decode(t, &o)
			if o.Size != "5" {
				t.Fatalf("one request: %+v", o)
			}
			res = c.do("POST", "/upload/storage/v1/b/default/o?uploadType=resumable&name=two", nil, nil).want(t, 200)
			c.do("PUT", res.header.Get("Location")[len(c.base):], map[string]string{"Content-Range": "bytes 0-2/*"}, strings.NewReader("abc")).want(t, 308)
			c.do("DELETE", res.header.Get("Location")[len(c.base):], nil, nil).want(t, 499)
			c.do("GET", "/b/default/o/two", nil, nil).wantError(t, 404)
			c.do("PUT", res.header.Get("Location")[len(c.base):], map[string]string{"Content-Range": "bytes a-b/c"}, nil).wantError(t, 400)
		})
	}
}

// A scope's handler knows no other scope's buckets, objects or sessions.
func TestGCSOtherScope(t *testing.T) {
	s := gcsStore(t, testdb.Engines(t)[0], 0)
	mine, theirs := gcsServe(t, s, Scope{"p1", "dev"}), gcsServe(t, s, Scope{"p2", "dev"})
	prod := gcsServe(t, s, Scope{"p1", "prod"})
	mine.do("POST", "/storage/v1/b?project=", nil, strings.NewReader(`{"name":"photos"}`)).want(t, 200)
	mine.do("POST", "/upload/storage/v1/b/photos/o?uploadType=media&name=cat.jpg", nil, strings.NewReader("meow")).want(t, 200)
	mine.do("POST", "/upload/storage/v1/b/default/o?uploadType=media&name=secret", nil, strings.NewReader("s")).want(t, 200)
	res := mine.do("POST", "/upload/storage/v1/b/photos/o?uploadType=resumable&name=dog.jpg", nil, nil).want(t, 200)
	session := res.header.Get("Location")[len(mine.base):]
	for _, other := range []gcsClient{theirs, prod} {
		other.do("GET", "/b/photos", nil, nil).wantError(t, 404)
		other.do("GET", "/b/photos/o", nil, nil).wantError(t, 404)
		other.do("GET", "/b/photos/o/cat.jpg?alt=media", nil, nil).wantError(t, 404)
		other.do("GET", "/b/default/o/secret", nil, nil).wantError(t, 404)
		other.do("POST", "/upload/storage/v1/b/photos/o?uploadType=media&name=x", nil, strings.NewReader("x")).wantError(t, 404)
		other.do("POST", "/b/default/o/secret/rewriteTo/b/default/o/mine", nil, nil).wantError(t, 404)
		other.do("PUT", session, map[string]string{"Content-Range": "bytes 0-2/3"}, strings.NewReader("woof")).wantError(t, 404)
		var list struct {
			Items []gcsBucket `json:"items"`
		}
		other.do("GET", "/b", nil, nil).want(t, 200).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Name != "default" {
			t.Fatalf("another scope's buckets: %+v", list)
		}
	}
	mine.do("PUT", session, map[string]string{"Content-Range": "bytes 0-3/4"}, strings.NewReader("woof")).want(t, 200)
}

// An upload over the quota is refused with 413 and leaves nothing: the
// object is not made, the bytes are not counted. A resumable upload that
// declares its size is refused at the start.
func TestGCSQuota(t *testing.T) {
	s := gcsStore(t, testdb.Engines(t)[0], 1000)
	sc := Scope{"p1", "dev"}
	c := gcsServe(t, s, sc)
	c.do("POST", "/upload/storage/v1/b/default/o?uploadType=media&name=big", nil, bytes.NewReader(make([]byte, 1001))).wantError(t, 413)
	res := c.do("POST", "/upload/storage/v1/b/default/o?uploadType=resumable&name=big", nil, nil).want(t, 200)
	session := res.header.Get("Location")[len(c.base):]
	c.do("PUT", session, map[string]string{"Content-Range": "bytes 0-599/*"}, bytes.NewReader(make([]byte, 600))).want(t, 308)
	c.do("PUT", session, map[string]string{"Content-Range": "bytes 600-1199/1200"}, bytes.NewReader(make([]byte, 600))).wantError(t, 413)
	c.do("POST", "/upload/storage/v1/b/default/o?uploadType=resumable&name=big", map[string]string{"X-Upload-Content-Length": "1001"}, nil).wantError(t, 413)
	c.do("GET", "/b/default/o/big", nil, nil).wantError(t, 404)
	if u, err := s.Usage(context.Background(), sc); err != nil || u.Bytes != 0 || u.Objects != 0 {
		t.Fatalf("usage after refused uploads: %+v %v", u, err)
	}
	c.do("POST", "/upload/storage/v1/b/default/o?uploadType=media&name=fits", nil, bytes.NewReader(make([]byte, 1000))).want(t, 200)
}

// The sidecar answers the default bucket and trades its credential for a
// token, refusing anything else.
func TestSidecar(t *testing.T) {
	s := gcsStore(t, testdb.Engines(t)[0], 0)
	c := gcsServe(t, s, Scope{"p1", "dev"})
	var bucket struct {
		BucketID string `json:"bucketId"`
	}
	c.do("GET", "/object-storage/default-bucket", nil, nil).want(t, 200).decode(t, &bucket)
	if bucket.BucketID != "default" {
		t.Fatalf("default bucket %+v", bucket)
	}
	var cred struct {
		AccessToken string `json:"access_token"`
	}
	c.do("GET", "/credential", nil, nil).want(t, 200).decode(t, &cred)
	if cred.AccessToken == "" || cred.AccessToken == s.sidecarToken(Scope{"p2", "dev"}) {
		t.Fatalf("credential %+v", cred)
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "audience": {"replit"},
		"subject_token_type": {"access_token"}, "subject_token": {cred.AccessToken}}
	var tok struct {
		AccessToken     string `json:"access_token"`
		IssuedTokenType string `json:"issued_token_type"`
		TokenType       string `json:"token_type"`
		ExpiresIn       int    `json:"expires_in"`
	}
	formType := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	c.do("POST", "/token", formType, strings.NewReader(form.Encode())).want(t, 200).decode(t, &tok)
	if tok.AccessToken == "" || tok.IssuedTokenType != "urn:ietf:params:oauth:token-type:access_token" || tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 {
		t.Fatalf("token %+v", tok)
	}
	form.Set("subject_token", s.sidecarToken(Scope{"p2", "dev"}))
	c.do("POST", "/token", formType, strings.NewReader(form.Encode())).want(t, 400)
}

func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"", "bytes */*", "bytes */10", "bytes 0-9/10", "bytes 5-*/*", "bytes 0-9/*", "bytes 9-0/10", "bytes -1-3/4", "bytes 0-10/10"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if cr, err := parseContentRange(h); err == nil && (cr.first < 0 || cr.total < -1 || (cr.query && cr.toEnd)) {
			t.Fatalf("%q: %+v", h, cr)
		}
		if size < 0 {
			return
		}
		if off, n, _, ok := byteRange(strings.Replace(h, "bytes ", "bytes=", 1), size); ok && (off < 0 || n < 0 || off+n > size) {
			t.Fatalf("range %q of %d: %d+%d", h, size, off, n)
		}
	})
}

// Google's Go client, pointed here by STORAGE_EMULATOR_HOST as the Node
// one is, uploads in several resumable chunks and in one multipart
// request, checks the CRC32C of what it reads, copies, lists, deletes.
func TestGCSGoClient(t *testing.T) {
	c := gcsServe(t, gcsStore(t, testdb.Engines(t)[0], 0), Scope{"p1", "dev"})
	t.Setenv("STORAGE_EMULATOR_HOST", c.base)
	ctx := context.Background()
	cl, err := storage.NewClient(ctx, storage.WithJSONReads())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	bkt := cl.Bucket("default")
	data := bytes.Repeat([]byte("go client "), 100_000) // 1 MB: four chunks of 256 KiB
	big := bkt.Object("go/ä b.bin")
	w := big.NewWriter(ctx)
	w.ChunkSize, w.ContentType, w.Metadata = 256<<10, "application/x-go", map[string]string{"from": "go"}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("chunked upload: %v", err)
	}
	sum := md5.Sum(data)
	if a := w.Attrs(); a.Size != int64(len(data)) || a.CRC32C != crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)) || !bytes.Equal(a.MD5, sum[:]) || a.Metadata["from"] != "go" {
		t.Fatalf("chunked upload's attributes: %+v", a)
	}
	small := bkt.Object("go/small.txt")
	w = small.NewWriter(ctx)
	w.ChunkSize = 0 // one multipart request
	if _, err := io.WriteString(w, "tiny"); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("multipart upload: %v", err)
	}

	r, err := big.NewReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r) // the reader checks the CRC32C at the end
	r.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %d bytes, %v", len(got), err)
	}
	r, err = big.NewRangeReader(ctx, 5, 10)
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(r)
	r.Close()
	if err != nil || string(got) != "ient go cl" {
		t.Fatalf("range read: %q, %v", got, err)
	}

	if _, err := bkt.Object("go/dir/copy").CopierFrom(big).Run(ctx); err != nil {
		t.Fatalf("copy: %v", err)
	}
	var names []string
	it := bkt.Objects(ctx, &storage.Query{Prefix: "go/", Delimiter: "/"})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, a.Name+a.Prefix)
	}
	if slices.Sort(names); !slices.Equal(names, []string{"go/dir/", "go/small.txt", "go/ä b.bin"}) {
		t.Fatalf("list: %q", names)
	}
	if err := small.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := small.Attrs(ctx); !errors.Is(err, storage.ErrObjectNotExist) {
		t.Fatalf("after delete: %v", err)
	}
}
