package objstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"ecode/internal/store/testdb"
)

// Streamed bodies as SDKs send them: aws-chunked with each chunk signed
// in a chain (signatures made by the AWS SDK for Go's signers), or
// unsigned with a trailing CRC32. A chunk changed in flight, or a wrong
// trailer, fails the write and keeps nothing.
func TestS3ChunkedBodies(t *testing.T) {
	st, dir := newStore(t, testdb.Engines(t)[0], 1<<20)
	sc := Scope{ProjectID: "p1", Env: "dev"}
	srv := httptest.NewServer(st.S3Handler(sc))
	defer srv.Close()
	ak := st.AccessKey(sc)
	creds := aws.Credentials{AccessKeyID: ak, SecretAccessKey: st.secretKey(ak)}
	ctx := context.Background()

	// put sends body, its header signed for payload; frame makes the body
	// from the request's signature.
	put := func(key, payload string, decoded int, frame func(seed []byte) []byte) (int, string) {
		req, err := http.NewRequest(http.MethodPut, srv.URL+"/default/"+key, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(decoded))
		req.Header.Set("X-Amz-Content-Sha256", payload)
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, payload, "s3", S3Region, time.Now()); err != nil {
			t.Fatal(err)
		}
		_, sig, _ := strings.Cut(req.Header.Get("Authorization"), "Signature=")
		seed, _ := hex.DecodeString(sig)
		body := frame(seed)
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		text, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(text)
	}
	signedChunks := func(chunks [][]byte, tamper bool) func([]byte) []byte {
		return func(seed []byte) []byte {
			ss := v4.NewStreamSigner(creds, "s3", S3Region, seed)
			var b bytes.Buffer
			for _, c := range append(chunks, nil) {
				sig, err := ss.GetSignature(ctx, nil, c, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "%x;chunk-signature=%x\r\n", len(c), sig)
				if tamper && len(c) > 0 {
					c = append([]byte{c[0] ^ 1}, c[1:]...)
				}
				b.Write(c)
				b.WriteString("\r\n")
			}
			return b.Bytes()
		}
	}
	chunks := [][]byte{bytes.Repeat([]byte("a"), 70_000), []byte("tail")}
	if code, body := put("signed", streamingSigned, 70_004, signedChunks(chunks, false)); code != 200 {
		t.Fatalf("signed chunks: %d %s", code, body)
	}
	o, err := st.Stat(ctx, sc, "default", "signed")
	if err != nil || o.Size != 70_004 {
		t.Fatalf("stored %+v %v", o, err)
	}
	before := blobCount(t, dir)
	if code, body := put("tampered", streamingSigned, 70_004, signedChunks(chunks, true)); code != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("a changed chunk: %d %s", code, body)
	}

	trailing := func(data []byte, crc uint32) func([]byte) []byte {
		return func([]byte) []byte {
			sum := base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, crc))
			return fmt.Appendf(nil, "%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n", len(data), data, sum)
		}
	}
	data := []byte("hello, trailer")
	if code, body := put("trailer", streamingTrailer, len(data), trailing(data, crc32.ChecksumIEEE(data))); code != 200 {
		t.Fatalf("trailer: %d %s", code, body)
	}
	if code, body := put("bad-trailer", streamingTrailer, len(data), trailing(data, 42)); code != 400 || !strings.Contains(body, "BadDigest") {
		t.Fatalf("a wrong trailer: %d %s", code, body)
	}
	if code, body := put("cut", streamingTrailer, len(data), func([]byte) []byte { return []byte("20\r\nshort") }); code != 400 || !strings.Contains(body, "IncompleteBody") {
		t.Fatalf("a cut body: %d %s", code, body)
	}
	for _, k := range []string{"tampered", "bad-trailer", "cut"} {
		if _, err := st.Stat(ctx, sc, "default", k); err == nil {
			t.Errorf("%s was stored", k)
		}
	}
	if n := blobCount(t, dir); n != before+1 { // the good trailer's
		t.Fatalf("%d blobs, want %d", n, before+1)
	}
}

// An aws-chunked body of any bytes decodes or fails, never more bytes than
// its chunks say and never a panic.
func FuzzChunked(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n"))
	f.Add([]byte("3;chunk-signature=00\r\nabc\r\n0;chunk-signature=00\r\n\r\n"))
	f.Add([]byte("ffffffffffffffff\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := io.ReadAll(newChunked(bytes.NewReader(body), nil))
		if err == nil && len(out) > len(body) {
			t.Fatalf("%d bytes decoded from %d", len(out), len(body))
		}
	})
}
