// Package attack replays, against the real server and real sandboxes, the
// attacks an ordinary account once made work: code in a sandbox steering
// what the server does as root, secrets leaking past masks, the network
// edges, the login and the audit log. Each test fails if the attack
// succeeds; the server must stay healthy through all of them.
package attack_test

import (
	"testing"
	"time"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// The test binary is also the sandbox agent, as the ecode binary is.
func TestMain(m *testing.M) { testserver.Main(m) }

// execResult is the answer of POST /api/projects/{id}/exec.
type execResult struct {
	ExitCode int
	Stdout   string
	Stderr   string
	TimedOut bool
}

// sh runs a shell line in the project's sandbox and fails the test unless
// it exits 0.
func sh(t *testing.T, c *testserver.Client, projectID, command string) execResult {
	t.Helper()
	var res execResult
	c.Post(t, "/api/projects/"+projectID+"/exec", map[string]any{"command": command, "timeoutSec": 120}).WantStatus(t, 200).Decode(t, &res)
	if res.ExitCode != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", command, res.ExitCode, res.Stdout, res.Stderr)
	}
	return res
}

// sqlite starts one server on SQLite: the attacks are about files,
// processes and the wire, not the database engine.
func sqlite(t *testing.T, opts ...testserver.Option) *testserver.Server {
	t.Helper()
	return testserver.New(t, testdb.Engines(t)[0], opts...)
}

// healthy fails the test unless the server still answers its health check.
func healthy(t *testing.T, s *testserver.Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := s.Anonymous().Get(t, "/api/monitoring/health")
		if r.StatusCode == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server unhealthy after the attack: %d %s", r.StatusCode, r.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
