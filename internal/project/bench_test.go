package project_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// BenchmarkFileRoundTrip10KB is one editor save and reload of a 10 KB file
// through the API: PUT (temp file, fsync, rename) then GET, over HTTP.
func BenchmarkFileRoundTrip10KB(b *testing.B) {
	s := testserver.New(b, testdb.Engines(b)[0])
	c := s.SignUp(b, "bencher")
	p := c.CreateProject(b, "Bench")
	body := make([]byte, 10<<10)
	rand.Read(body)
	path := "/api/projects/" + p.ID + "/files/src/data.bin"
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		c.Put(b, path, body).WantStatus(b, 204)
		if got := c.Get(b, path).Body; !bytes.Equal(got, body) {
			b.Fatal("round trip changed the bytes")
		}
	}
}

// BenchmarkDiskRoundTrip10KB is the floor the API is compared with: the
// same durable write (temp file, fsync, rename) and read, with no HTTP.
func BenchmarkDiskRoundTrip10KB(b *testing.B) {
	dir := b.TempDir()
	body := make([]byte, 10<<10)
	rand.Read(body)
	dst, tmp := filepath.Join(dir, "data.bin"), filepath.Join(dir, ".tmp")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		f, err := os.Create(tmp)
		if err != nil {
			b.Fatal(err)
		}
		f.Write(body)
		f.Sync()
		f.Close()
		if err := os.Rename(tmp, dst); err != nil {
			b.Fatal(err)
		}
		if got, _ := os.ReadFile(dst); len(got) != len(body) {
			b.Fatal("short read")
		}
	}
}
