package objstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"gocloud.dev/blob/fileblob"

	"ecode/internal/store/testdb"
)

// newStore is a store over a fresh database of e and a blob folder of its
// own; the folder is returned to look at what is kept.
func newStore(t testing.TB, e testdb.Engine, quota int64) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	blobs, err := fileblob.OpenBucket(dir, &fileblob.Options{Metadata: fileblob.MetadataDontWrite, NoTempDir: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	return New(testdb.Open(t, e), blobs, bytes.Repeat([]byte("k"), 32), Options{Quota: quota, TempDir: t.TempDir()}), dir
}

// blobCount counts the blobs kept.
func blobCount(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// s3Client is the AWS SDK for Go's client of the scope's endpoint, with
// the credentials commands are given (or others).
func s3Client(t testing.TB, url string, env []string) *s3.Client {
	t.Helper()
	vals := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vals[k] = v
	}
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(url),
		Region:       S3Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(vals["AWS_ACCESS_KEY_ID"], vals["AWS_SECRET_ACCESS_KEY"], ""),
		// A large put asks Expect: 100-continue; a refusal (over quota) must
		// reach the client before it gives up waiting and sends the body
		// anyway, even on a loaded machine.
		HTTPClient: awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.ExpectContinueTimeout = 30 * time.Second
		}),
	})
}

func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// The AWS SDK for Go, unmodified, works the endpoint: buckets, objects
// with metadata and ranges, listing by folder and page, copy, batch
// delete, multipart upload, presigned URLs; wrong credentials and other
// scopes' keys are refused, and nothing of a refused write is kept.
func TestS3WithAWSSDK(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			st, dir := newStore(t, e, 64<<20)
			sc := Scope{ProjectID: "p1", Env: "dev"}
			srv := httptest.NewServer(st.S3Handler(sc))
			defer srv.Close()
			c := s3Client(t, srv.URL, st.S3Env(sc))
			ctx := context.Background()

			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("photos")}); s3Code(err) != "BucketAlreadyOwnedByYou" {
				t.Fatalf("second create: %v", err)
			}
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("Bad_Name")}); s3Code(err) != "InvalidBucketName" {
				t.Fatalf("bad name: %v", err)
			}
			lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, b := range lb.Buckets {
				names = append(names, *b.Name)
			}
			// The default bucket is made when a scope would have none, or on first use.
			if !slices.Equal(names, []string{"photos"}) {
				t.Fatalf("buckets %v", names)
			}

			body := []byte("hello, objects")
			put, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String("a/b c+é.txt"), Body: bytes.NewReader(body),
				ContentType: aws.String("text/plain"), Metadata: map[string]string{"owner": "ada"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(*put.ETag) != 34 {
				t.Fatalf("etag %s", *put.ETag)
			}
			got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("a/b c+é.txt"), Range: aws.String("bytes=7-13")})
			if err != nil {
				t.Fatal(err)
			}
			part, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if string(part) != "objects" || *got.ContentRange != "bytes 7-13/14" || got.Metadata["owner"] != "ada" || *got.ContentType != "text/plain" {
				t.Fatalf("range get: %q %v %v", part, *got.ContentRange, got.Metadata)
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("photos"), Key: aws.String("a/b c+é.txt")})
			if err != nil || *head.ContentLength != int64(len(body)) || *head.ETag != *put.ETag {
				t.Fatalf("head: %v %+v", err, head)
			}
			if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("photos"), Key: aws.String("nope")}); s3Code(err) != "NoSuchKey" {
				t.Fatalf("missing key: %v", err)
			}
			if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nope"), Key: aws.String("x")}); s3Code(err) != "NoSuchBucket" {
				t.Fatalf("missing bucket: %v", err)
			}

			for _, k := range []string{"a/c.txt", "a/d/e.txt", "b/f.txt", "g.txt"} {
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("photos"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
					t.Fatal(err)
				}
			}
			// Pages of 2 by folder: a/ (b c+é.txt, c.txt, d/) in pages.
			var keys, folders []string
			p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("photos"), Prefix: aws.String("a/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
			pages := 0
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, o := range page.Contents {
					keys = append(keys, *o.Key)
				}
				for _, cp := range page.CommonPrefixes {
					folders = append(folders, *cp.Prefix)
				}
			}
			if pages != 2 || !slices.Equal(keys, []string{"a/b c+é.txt", "a/c.txt"}) || !slices.Equal(folders, []string{"a/d/"}) {
				t.Fatalf("listing: %d pages, %v %v", pages, keys, folders)
			}
			top, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("photos"), Delimiter: aws.String("/")})
			if err != nil || len(top.Contents) != 1 || len(top.CommonPrefixes) != 2 {
				t.Fatalf("top level: %v %+v", err, top)
			}

			if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("default"), Key: aws.String("copy.txt"), CopySource: aws.String("photos/a/b%20c%2B%C3%A9.txt")}); err != nil {
				t.Fatal(err)
			}
			cp, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("default"), Key: aws.String("copy.txt")})
			if err != nil {
				t.Fatal(err)
			}
			cpBody, _ := io.ReadAll(cp.Body)
			cp.Body.Close()
			if !bytes.Equal(cpBody, body) || cp.Metadata["owner"] != "ada" {
				t.Fatalf("copy: %q %v", cpBody, cp.Metadata)
			}

			del, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("photos"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
				{Key: aws.String("a/c.txt")}, {Key: aws.String("g.txt")}, {Key: aws.String("never")},
			}}})
			if err != nil || len(del.Deleted) != 3 || len(del.Errors) != 0 {
				t.Fatalf("delete objects: %v %+v", err, del)
			}
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("photos"), Key: aws.String("a/b c+é.txt")}); err != nil {
				t.Fatal(err)
			}
			// The original's blob is still the copy's.
			if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("default"), Key: aws.String("copy.txt")}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("photos")}); s3Code(err) != "BucketNotEmpty" {
				t.Fatalf("delete non-empty bucket: %v", err)
			}

			// Multipart: three parts (5 MiB, 5 MiB, 1 byte), uploaded out of order.
			big := make([]byte, 10<<20+1)
			rand.Read(big)
			mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("default"), Key: aws.String("big.bin")})
			if err != nil {
				t.Fatal(err)
			}
			var done []types.CompletedPart
			for _, n := range []int32{3, 1, 2} {
				lo := int(n-1) * (5 << 20)
				hi := min(lo+5<<20, len(big))
				up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("default"), Key: aws.String("big.bin"), UploadId: mp.UploadId,
					PartNumber: aws.Int32(n), Body: bytes.NewReader(big[lo:hi])})
				if err != nil {
					t.Fatal(err)
				}
				done = append(done, types.CompletedPart{PartNumber: aws.Int32(n), ETag: up.ETag})
			}
			slices.SortFunc(done, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
			if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("default"), Key: aws.String("big.bin"),
				UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
				t.Fatal(err)
			}
			gb, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("default"), Key: aws.String("big.bin")})
			if err != nil {
				t.Fatal(err)
			}
			gotBig, _ := io.ReadAll(gb.Body)
			gb.Body.Close()
			if !bytes.Equal(gotBig, big) {
				t.Fatalf("multipart object: %d bytes back of %d", len(gotBig), len(big))
			}

			// A presigned GET works without the SDK.
			ps, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("default"), Key: aws.String("copy.txt")})
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.Get(ps.URL)
			if err != nil {
				t.Fatal(err)
			}
			psBody, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !bytes.Equal(psBody, body) {
				t.Fatalf("presigned: %d %q", res.StatusCode, psBody)
			}

			// Refusals: a wrong secret, another scope's key, no signature.
			env := st.S3Env(sc)
			env[1] = "AWS_SECRET_ACCESS_KEY=wrong-secret-wrong-secret-wrong-secret-xx"
			if _, err := s3Client(t, srv.URL, env).ListBuckets(ctx, &s3.ListBucketsInput{}); s3Code(err) != "SignatureDoesNotMatch" {
				t.Fatalf("wrong secret: %v", err)
			}
			other := Scope{ProjectID: "p2", Env: "dev"}
			if _, err := s3Client(t, srv.URL, st.S3Env(other)).ListBuckets(ctx, &s3.ListBucketsInput{}); s3Code(err) != "InvalidAccessKeyId" {
				t.Fatalf("another scope's key: %v", err)
			}
			if res, err := http.Get(srv.URL + "/default/copy.txt"); err != nil || res.StatusCode != 403 {
				t.Fatalf("unsigned: %v %v", err, res)
			}
			before := blobCount(t, dir)
			if _, err := s3Client(t, srv.URL, env).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("default"), Key: aws.String("x"), Body: strings.NewReader("x")}); s3Code(err) != "SignatureDoesNotMatch" {
				t.Fatalf("put with a wrong secret: %v", err)
			}
			// The other scope sees none of this scope's buckets.
			otherSrv := httptest.NewServer(st.S3Handler(other))
			defer otherSrv.Close()
			if _, err := s3Client(t, otherSrv.URL, st.S3Env(other)).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("default"), Key: aws.String("copy.txt")}); err == nil {
				t.Fatal("another scope reads this scope's object")
			}
			if _, err := s3Client(t, otherSrv.URL, st.S3Env(other)).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("photos")}); s3Code(err) != "NoSuchBucket" {
				t.Fatalf("another scope lists this scope's bucket: %v", err)
			}

			// Over the quota: refused, and no blob is left of it.
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("default"), Key: aws.String("huge"), Body: bytes.NewReader(make([]byte, 60<<20))}); s3Code(err) != "EntityTooLarge" {
				t.Fatalf("over quota: %v", err)
			}
			if n := blobCount(t, dir); n != before {
				t.Fatalf("%d blobs after refused writes, %d before", n, before)
			}
		})
	}
}

// 1 MiB objects through the endpoint with the AWS SDK for Go, over
// loopback TCP with no sandbox relay: the server's own cost.
func BenchmarkS3OneMiB(b *testing.B) {
	st, _ := newStore(b, testdb.Engines(b)[0], 1<<30)
	sc := Scope{ProjectID: "p1", Env: "dev"}
	srv := httptest.NewServer(st.S3Handler(sc))
	defer srv.Close()
	c := s3Client(b, srv.URL, st.S3Env(sc))
	ctx := context.Background()
	body := make([]byte, 1<<20)
	rand.Read(body)
	b.Run("put", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("default"), Key: aws.String("k"), Body: bytes.NewReader(body)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("default"), Key: aws.String("k")})
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, out.Body)
			out.Body.Close()
		}
	})
}
