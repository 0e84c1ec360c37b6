package run_test

import (
	"strings"
	"testing"

	"ecode/internal/config"
	"ecode/internal/runtime"
	"ecode/internal/testserver"
)

type sandboxStatus struct {
	Sandbox struct {
		Running   bool
		Measured  bool
		Resources *runtime.Resources
	}
}

// TestProjectLimitsApplied: the sandbox a project starts is held to the
// project's own memory, CPU and process limits, as the kernel reads them
// back from its cgroup, and a change applies when the sandbox restarts.
func TestProjectLimitsApplied(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		lee := s.SignUp(t, "lee")
		p := lee.CreateProject(t, "Limited")
		base := "/api/projects/" + p.ID
		lee.Put(t, base+"/resources", map[string]any{"memoryBytes": 160 << 20, "cpus": 0.5, "pids": 40}).WantStatus(t, 200)

		var st sandboxStatus
		lee.Get(t, base+"/sandbox").WantStatus(t, 200).Decode(t, &st)
		if st.Sandbox.Running {
			t.Fatal("a sandbox runs before anything asked for one")
		}
		// More processes than the project may have: forks fail inside.
		res := execIn(t, lee, p.ID, map[string]any{"command": "for i in $(seq 60); do sleep 3 & done; wait", "timeoutSec": 30})
		if !strings.Contains(strings.ToLower(res.Stderr), "fork") {
			t.Fatalf("60 processes under a limit of 40: %+v", res)
		}

		lee.Get(t, base+"/sandbox").WantStatus(t, 200).Decode(t, &st)
		if !st.Sandbox.Running {
			t.Fatal("the sandbox is not running after exec")
		}
		if !st.Sandbox.Measured {
			t.Skip("no cgroup here (the server is not root): the kernel's limits cannot be read back")
		}
		want := runtime.Limits{MemoryBytes: 160 << 20, CPUs: 0.5, Pids: 40}
		if st.Sandbox.Resources.Limits != want {
			t.Fatalf("the cgroup holds %+v, want %+v", st.Sandbox.Resources.Limits, want)
		}
		if st.Sandbox.Resources.PidsUsed < 1 {
			t.Fatalf("usage not measured: %+v", st.Sandbox.Resources)
		}

		// A change waits for the restart.
		lee.Put(t, base+"/resources", map[string]any{"memoryBytes": 192 << 20, "pids": 64}).WantStatus(t, 200)
		lee.Get(t, base+"/sandbox").WantStatus(t, 200).Decode(t, &st)
		if st.Sandbox.Resources.Pids != 40 {
			t.Fatalf("the running sandbox changed limits before a restart: %+v", st.Sandbox.Resources)
		}
		lee.Post(t, base+"/sandbox/restart", nil).WantStatus(t, 200).Decode(t, &st)
		want = runtime.Limits{MemoryBytes: 192 << 20, CPUs: 1, Pids: 64}
		if !st.Sandbox.Running || st.Sandbox.Resources == nil || st.Sandbox.Resources.Limits != want {
			t.Fatalf("after the restart %+v, want %+v", st.Sandbox.Resources, want)
		}
		if res := execIn(t, lee, p.ID, map[string]any{"command": "for i in $(seq 30); do sleep 1 & done; wait; echo done"}); res.Stdout != "done\n" {
			t.Fatalf("30 processes under the raised limit of 64: %+v", res)
		}

		// Restarting is running code: a viewer may not.
		vic := s.SignUp(t, "vic")
		lee.Post(t, base+"/members", map[string]string{"username": "vic", "role": "viewer"}).WantStatus(t, 201)
		vic.Post(t, base+"/sandbox/restart", nil).WantError(t, 403, "forbidden")
	}, func(c *config.Config) {
		c.Sandbox = config.SandboxLimits{Memory: 256 << 20, MaxMemory: 512 << 20, CPUs: 1, MaxCPUs: 2, Pids: 128, MaxPids: 256, MaxDisk: 4 << 30}
	})
}
