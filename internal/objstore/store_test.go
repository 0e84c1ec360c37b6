package objstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"ecode/internal/store/testdb"
)

func readAll(t *testing.T, st *Store, sc Scope, bucket, key string) string {
	t.Helper()
	rd, _, err := st.Open(context.Background(), sc, bucket, key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A snapshot copies rows, not bytes: overwriting and deleting objects after
// it keeps the blobs it names, restoring brings them back, and a blob goes
// once neither an object nor a snapshot names it. Copies share blobs.
func TestSnapshotsShareBlobs(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			st, dir := newStore(t, e, 1<<20)
			ctx := context.Background()
			sc := Scope{ProjectID: "p1", Env: "dev"}
			put := func(key, body string) {
				if _, err := st.Put(ctx, sc, DefaultBucket, key, strings.NewReader(body), "", nil); err != nil {
					t.Fatal(err)
				}
			}
			put("a", "first")
			if _, err := st.CreateBucket(ctx, sc, "extra"); err != nil {
				t.Fatal(err)
			}
			if err := st.Snapshot(ctx, sc, "s1"); err != nil {
				t.Fatal(err)
			}
			put("a", "second") // the first blob stays: s1 names it
			put("b", "new")
			if n := blobCount(t, dir); n != 3 {
				t.Fatalf("%d blobs after overwrite, want 3", n)
			}
			if err := st.DeleteBucket(ctx, sc, "extra"); err != nil {
				t.Fatal(err)
			}
			if err := st.RestoreSnapshot(ctx, sc, "s1"); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, st, sc, DefaultBucket, "a"); got != "first" {
				t.Fatalf("restored a = %q", got)
			}
			if _, err := st.Stat(ctx, sc, DefaultBucket, "b"); err == nil {
				t.Fatal("b outlived the restore")
			}
			bs, _ := st.Buckets(ctx, sc)
			if len(bs) != 2 || bs[1].Name != "extra" {
				t.Fatalf("buckets after restore %+v", bs)
			}
			if n := blobCount(t, dir); n != 1 {
				t.Fatalf("%d blobs after restore, want 1", n)
			}
			if _, err := st.Copy(ctx, sc, DefaultBucket, "a", "extra", "a-copy"); err != nil {
				t.Fatal(err)
			}
			if err := st.DropSnapshot(ctx, "s1"); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, sc, DefaultBucket, "a"); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, st, sc, "extra", "a-copy"); got != "first" || blobCount(t, dir) != 1 {
				t.Fatalf("the copy after its source went: %q, %d blobs", got, blobCount(t, dir))
			}
			if err := st.DropProject(ctx, "p1"); err != nil {
				t.Fatal(err)
			}
			if n := blobCount(t, dir); n != 0 {
				t.Fatalf("%d blobs after the project went", n)
			}
		})
	}
}

// Listing pages in byte order through folders and keys of any bytes,
// resuming after a folder or a key alike.
func TestListPages(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			st, _ := newStore(t, e, 1<<20)
			ctx := context.Background()
			sc := Scope{ProjectID: "p1", Env: "prod"}
			keys := []string{"A", "a", "a/1", "a/2", "a/x/3", "a0", "b/z", "b/ü", "zz/", "é"} // byte order
			for _, k := range keys {
				if _, err := st.Put(ctx, sc, DefaultBucket, k, strings.NewReader(k), "", nil); err != nil {
					t.Fatal(err)
				}
			}
			var flat []string
			for after := ""; ; {
				objs, _, next, err := st.List(ctx, sc, DefaultBucket, "", "", after, 3)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range objs {
					flat = append(flat, o.Key)
				}
				if after = next; next == "" {
					break
				}
			}
			if !slices.Equal(flat, keys) {
				t.Fatalf("flat listing %q", flat)
			}
			var items []string
			for after := ""; ; {
				objs, prefixes, next, err := st.List(ctx, sc, DefaultBucket, "", "/", after, 2)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range objs {
					items = append(items, o.Key)
				}
				items = append(items, prefixes...)
				if after = next; next == "" {
					break
				}
			}
			slices.Sort(items)
			if want := []string{"A", "a", "a/", "a0", "b/", "zz/", "é"}; !slices.Equal(items, want) {
				t.Fatalf("by folder %q, want %q", items, want)
			}
			objs, prefixes, _, err := st.List(ctx, sc, DefaultBucket, "a/", "/", "", 10)
			if err != nil || len(objs) != 2 || !slices.Equal(prefixes, []string{"a/x/"}) {
				t.Fatalf("a/ by folder: %v %+v %q", err, objs, prefixes)
			}
			n, err := st.DeletePrefix(ctx, sc, DefaultBucket, "b/")
			if err != nil || n != 2 {
				t.Fatalf("delete b/: %d %v", n, err)
			}
		})
	}
}

// Writes at once are held to the quota together: of eight 200 KiB puts
// against 1 MiB, five fit, and the rest are refused.
func TestQuotaUnderConcurrentPuts(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			st, dir := newStore(t, e, 1<<20)
			ctx := context.Background()
			sc := Scope{ProjectID: "p1", Env: "dev"}
			errs := make(chan error, 8)
			for i := range 8 {
				go func() {
					_, err := st.Put(ctx, sc, DefaultBucket, fmt.Sprint(i), bytes.NewReader(make([]byte, 200<<10)), "", nil)
					errs <- err
				}()
			}
			ok := 0
			for range 8 {
				if err := <-errs; err == nil {
					ok++
				} else if !strings.Contains(err.Error(), "storage_quota_exceeded") {
					t.Fatal(err)
				}
			}
			u, err := st.Usage(ctx, sc)
			if err != nil || ok != 5 || u.Bytes != 5*200<<10 || blobCount(t, dir) != 5 {
				t.Fatalf("%d puts stored, usage %+v, %d blobs", ok, u, blobCount(t, dir))
			}
		})
	}
}
