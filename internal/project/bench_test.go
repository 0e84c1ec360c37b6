package project_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
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

// BenchmarkFileGet10KB is an editor opening a 10 KB file: one GET through
// the API, the file opened beneath the project without following links
// and checked on its descriptor.
func BenchmarkFileGet10KB(b *testing.B) {
	s := testserver.New(b, testdb.Engines(b)[0])
	c := s.SignUp(b, "bencher")
	p := c.CreateProject(b, "Bench")
	body := make([]byte, 10<<10)
	rand.Read(body)
	path := "/api/projects/" + p.ID + "/files/src/deep/data.bin"
	c.Put(b, path, body).WantStatus(b, 204)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		if got := c.Get(b, path).Body; len(got) != len(body) {
			b.Fatal("short read")
		}
	}
}

// BenchmarkFork10kFiles forks a project of 10,000 small files in 100
// folders, with its history: every file read from a descriptor.
func BenchmarkFork10kFiles(b *testing.B) {
	s := testserver.New(b, testdb.Engines(b)[0])
	c := s.SignUp(b, "bencher")
	p := c.CreateProject(b, "Bench")
	dir := s.App.Projects.Dir(p.ID)
	for i := range 10000 {
		sub := filepath.Join(dir, "src", "pkg"+strconv.Itoa(i%100))
		if i < 100 {
			if err := os.MkdirAll(sub, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(sub, "file"+strconv.Itoa(i)+".js"), []byte("export const n = "+strconv.Itoa(i)+";\n"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	c.Post(b, "/api/projects/"+p.ID+"/checkpoints", map[string]string{"message": "10k files"}).WantStatus(b, 201)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		n++
		var fork struct{ Project testserver.Project }
		c.Post(b, "/api/projects/"+p.ID+"/fork", map[string]string{"name": "Fork " + strconv.Itoa(n)}).WantStatus(b, 201).Decode(b, &fork)
		b.StopTimer()
		c.Delete(b, "/api/projects/"+fork.Project.ID).WantStatus(b, 204)
		b.StartTimer()
	}
}
