package run_test

import (
	"bytes"
	"context"
	"os/exec"
	"testing"

	"ecode/internal/auth"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// BenchmarkRunToFirstOutput is Run pressed (POST /run) to the program's
// first line in the console, with the project's sandbox already up.
func BenchmarkRunToFirstOutput(b *testing.B) {
	if _, err := exec.LookPath("bwrap"); err != nil {
		b.Skip("bubblewrap is not installed")
	}
	s := testserver.New(b, testdb.Engines(b)[0])
	c := s.SignUp(b, "bench")
	p := c.CreateProject(b, "Bench")
	c.Put(b, "/api/projects/"+p.ID+"/files/ecode.toml", "run = \"echo mark$((1+1))\"\n").WantStatus(b, 204)
	c.Post(b, "/api/projects/"+p.ID+"/exec", map[string]string{"command": "true"}).WantStatus(b, 200) // warm the sandbox
	actor, err := s.App.Auth.UserByUsername(context.Background(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		firstOutput(b, s, c, actor, p.ID)
	}
}

func firstOutput(b *testing.B, s *testserver.Server, c *testserver.Client, actor *auth.User, projectID string) {
	_, events, cancel, err := s.App.Runs.Subscribe(context.Background(), actor, projectID)
	if err != nil {
		b.Fatal(err)
	}
	defer cancel()
	c.Post(b, "/api/projects/"+projectID+"/run", nil).WantStatus(b, 202)
	for e := range events {
		if e.Type == "output" && bytes.Contains(e.Data, []byte("mark2")) {
			return
		}
	}
	b.Fatal("console closed before the output arrived")
}

// BenchmarkDirectFirstOutput is the same command run directly on the host.
func BenchmarkDirectFirstOutput(b *testing.B) {
	for b.Loop() {
		cmd := exec.Command("sh", "-c", "echo marker")
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 64)
		if _, err := out.Read(buf); err != nil {
			b.Fatal(err)
		}
		cmd.Wait()
	}
}
