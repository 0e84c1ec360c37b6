package objstore_test

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"ecode/internal/config"
	"ecode/internal/objstore"
	"ecode/internal/testserver"
)

// listing is a page of the pane's object listing.
type listing struct {
	Objects  []objstore.Object
	Prefixes []string
	Next     string
}

func keysOf(l listing) []string {
	var keys []string
	for _, o := range l.Objects {
		keys = append(keys, o.Key)
	}
	return keys
}

// blobFiles counts the blobs a server keeps.
func blobFiles(t *testing.T, s *testserver.Server) int {
	t.Helper()
	n := 0
	filepath.WalkDir(filepath.Join(s.App.Config.DataDir, "objects"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// The Storage pane's routes: buckets, objects put and listed by folder in
// pages, ranged downloads, a folder deleted, a resumable upload in chunks
// resumed after a wrong offset, the quota; strangers see nothing.
func TestManageStorage(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ada := s.SignUp(t, "ada")
		p := ada.CreateProject(t, "Files")
		base := "/api/projects/" + p.ID + "/storage/dev"
		object := func(bucket, key string) string {
			return base + "/buckets/" + bucket + "/object?key=" + url.QueryEscape(key)
		}

		var over struct {
			Buckets []objstore.Bucket
			Usage   objstore.Usage
		}
		ada.Get(t, base).WantStatus(t, 200).Decode(t, &over)
		if len(over.Buckets) != 1 || over.Buckets[0].Name != "default" || over.Usage.Quota != 1<<20 {
			t.Fatalf("a new scope: %+v", over)
		}
		var made struct{ Bucket objstore.Bucket }
		ada.Post(t, base+"/buckets", map[string]string{"name": "photos"}).WantStatus(t, 201).Decode(t, &made)
		if made.Bucket.Name != "photos" || made.Bucket.Created.IsZero() {
			t.Fatalf("created %+v", made)
		}
		ada.Post(t, base+"/buckets", map[string]string{"name": "photos"}).WantError(t, 409, "bucket_exists")
		ada.Post(t, base+"/buckets", map[string]string{"name": "No"}).WantError(t, 400, "invalid_bucket_name")
		ada.Get(t, "/api/projects/"+p.ID+"/storage/staging").WantError(t, 400, "invalid_env")

		for _, k := range []string{"a/1.txt", "a/2.txt", "a/b/3.txt", "c.txt", "d/4.txt"} {
			var put struct{ Object objstore.Object }
			ada.Put(t, object("photos", k), "content of "+k).WantStatus(t, 200).Decode(t, &put)
			if put.Object.Key != k || put.Object.Size != int64(len("content of "+k)) || len(put.Object.MD5) != 32 || put.Object.CRC32C == "" {
				t.Fatalf("put %s: %+v", k, put.Object)
			}
		}
		ada.Put(t, object("nope", "x"), "x").WantError(t, 404, "bucket_not_found")
		ada.Put(t, object("photos", ""), "x").WantError(t, 400, "invalid_key")

		// The top level by folder, two at a time: a/, c.txt | d/.
		var l listing
		ada.Get(t, base+"/buckets/photos/objects?delimiter=/&limit=2").WantStatus(t, 200).Decode(t, &l)
		if !slices.Equal(l.Prefixes, []string{"a/"}) || !slices.Equal(keysOf(l), []string{"c.txt"}) || l.Next == "" {
			t.Fatalf("first page %+v", l)
		}
		next := l.Next
		l = listing{}
		ada.Get(t, base+"/buckets/photos/objects?delimiter=/&limit=2&after="+url.QueryEscape(next)).WantStatus(t, 200).Decode(t, &l)
		if !slices.Equal(l.Prefixes, []string{"d/"}) || len(l.Objects) != 0 || l.Next != "" {
			t.Fatalf("second page %+v", l)
		}
		l = listing{}
		ada.Get(t, base+"/buckets/photos/objects?delimiter=/&prefix=a/").WantStatus(t, 200).Decode(t, &l)
		if !slices.Equal(l.Prefixes, []string{"a/b/"}) || !slices.Equal(keysOf(l), []string{"a/1.txt", "a/2.txt"}) {
			t.Fatalf("folder a/ %+v", l)
		}

		// Downloads: whole, and a range.
		res := ada.Get(t, object("photos", "a/b/3.txt")).WantStatus(t, 200)
		if string(res.Body) != "content of a/b/3.txt" || res.Header.Get("Content-Disposition") != `attachment; filename=3.txt` {
			t.Fatalf("download: %q %v", res.Body, res.Header)
		}
		ada.Header.Set("Range", "bytes=3-6")
		res = ada.Get(t, object("photos", "a/b/3.txt")).WantStatus(t, 206)
		ada.Header.Del("Range")
		if string(res.Body) != "tent" || res.Header.Get("Content-Range") != "bytes 3-6/20" {
			t.Fatalf("range: %q %v", res.Body, res.Header)
		}
		ada.Get(t, object("photos", "zzz")).WantError(t, 404, "object_not_found")

		// A folder, deleted.
		var gone struct{ Deleted int64 }
		ada.Delete(t, base+"/buckets/photos/objects?prefix=a/").WantStatus(t, 200).Decode(t, &gone)
		if gone.Deleted != 3 {
			t.Fatalf("deleted %d under a/", gone.Deleted)
		}
		ada.Delete(t, object("photos", "c.txt")).WantStatus(t, 204)
		ada.Delete(t, object("photos", "c.txt")).WantError(t, 404, "object_not_found")
		ada.Delete(t, base+"/buckets/photos").WantError(t, 409, "bucket_not_empty")

		// A resumable upload in three chunks, the second sent at a wrong offset first.
		var up struct {
			Upload struct {
				ID       string
				Received int64
			}
		}
		ada.Post(t, base+"/uploads", map[string]string{"bucket": "photos", "key": "big/file.bin", "contentType": "application/x-test"}).WantStatus(t, 201).Decode(t, &up)
		id := up.Upload.ID
		data := bytes.Repeat([]byte("0123456789"), 30_000)
		chunk := func(off, end int) *testserver.Response {
			return ada.Put(t, base+"/uploads/"+id+"?offset="+strconv.Itoa(off), data[off:end])
		}
		chunk(0, 100_000).WantStatus(t, 200).Decode(t, &up)
		if up.Upload.Received != 100_000 {
			t.Fatalf("after one chunk: %+v", up)
		}
		var mismatch struct {
			Error struct {
				Code    string
				Details struct{ Received int64 }
			}
		}
		chunk(150_000, 200_000).WantStatus(t, 409).Decode(t, &mismatch)
		if mismatch.Error.Code != "upload_offset_mismatch" || mismatch.Error.Details.Received != 100_000 {
			t.Fatalf("wrong offset: %+v", mismatch)
		}
		ada.Get(t, base+"/uploads/"+id).WantStatus(t, 200).Decode(t, &up)
		chunk(int(up.Upload.Received), 200_000).WantStatus(t, 200)
		chunk(200_000, len(data)).WantStatus(t, 200)
		var fin struct{ Object objstore.Object }
		ada.Post(t, base+"/uploads/"+id+"/finish", nil).WantStatus(t, 200).Decode(t, &fin)
		if fin.Object.Size != int64(len(data)) || fin.Object.ContentType != "application/x-test" {
			t.Fatalf("finished %+v", fin.Object)
		}
		if res := ada.Get(t, object("photos", "big/file.bin")).WantStatus(t, 200); !bytes.Equal(res.Body, data) {
			t.Fatal("the uploaded object's bytes differ")
		}
		ada.Get(t, base+"/uploads/"+id).WantError(t, 404, "upload_not_found")

		// Over the quota (1 MiB here): 413, and nothing of it kept.
		blobs := blobFiles(t, s)
		ada.Put(t, object("photos", "huge"), make([]byte, 1<<20)).WantError(t, 413, "storage_quota_exceeded")
		ada.Post(t, base+"/uploads", map[string]string{"bucket": "photos", "key": "huge2"}).WantStatus(t, 201).Decode(t, &up)
		ada.Put(t, base+"/uploads/"+up.Upload.ID+"?offset=0", make([]byte, 1<<20)).WantError(t, 413, "storage_quota_exceeded")
		ada.Get(t, object("photos", "huge")).WantError(t, 404, "object_not_found")
		if n := blobFiles(t, s); n != blobs {
			t.Fatalf("%d blobs after refused writes, %d before", n, blobs)
		}
		ada.Get(t, base).WantStatus(t, 200).Decode(t, &over)
		if over.Usage.Objects != 2 || over.Usage.Bytes != int64(len(data))+int64(len("content of d/4.txt")) {
			t.Fatalf("usage %+v", over.Usage)
		}

		// Someone else: the project is not found for them, whatever the route.
		bob := s.SignUp(t, "bob")
		bob.Get(t, base).WantStatus(t, 404)
		bob.Get(t, object("photos", "d/4.txt")).WantStatus(t, 404)
		bob.Put(t, object("photos", "x"), "x").WantStatus(t, 404)
		bob.Get(t, base+"/uploads/"+up.Upload.ID).WantStatus(t, 404)
		// Bob's own project has its own "default", without Ada's objects.
		bp := bob.CreateProject(t, "Mine")
		bob.Get(t, "/api/projects/"+bp.ID+"/storage/dev/buckets/photos/objects").WantError(t, 404, "bucket_not_found")
		bob.Get(t, "/api/projects/"+bp.ID+"/storage/dev/uploads/"+up.Upload.ID).WantError(t, 404, "upload_not_found")
	}, testserver.Option(func(c *config.Config) { c.StorageQuota = 1 << 20 }))
}
