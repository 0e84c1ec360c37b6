package run_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"ecode/internal/config"
	"ecode/internal/testserver"
)

type gpuSandbox struct {
	Sandbox struct {
		Running bool
		GPU     *struct {
			State   string
			Message string
			Unit    *struct {
				Name      string
				MemoryMiB int
				Simulated bool
			}
			Usage *struct {
				Measured bool
				Reason   string
			}
		}
	}
}

func sandboxOf(t *testing.T, c *testserver.Client, projectID string) gpuSandbox {
	t.Helper()
	var st gpuSandbox
	c.Get(t, "/api/projects/"+projectID+"/sandbox").WantStatus(t, 200).Decode(t, &st)
	return st
}

// TestGPUQueue leases the one GPU of a simulated inventory (no hardware:
// sandboxes get its environment and no device) to one sandbox at a time:
// the second project's run waits in line, saying so, and starts once the
// first sandbox idles out and lets go; the GPU's time is metered.
func TestGPUQueue(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		amy := s.SignUp(t, "amy") // the first account administers the server
		ben := s.SignUp(t, "ben")
		a, b := amy.CreateProject(t, "Trainer"), ben.CreateProject(t, "Tuner")

		var res struct {
			Resources struct {
				Effective struct{ GPU string }
				GPU       struct {
					Kinds     []struct{ Want, Label string }
					Simulated bool
				}
			}
		}
		amy.Get(t, "/api/projects/"+a.ID+"/resources").WantStatus(t, 200).Decode(t, &res)
		if res.Resources.Effective.GPU != "" || !res.Resources.GPU.Simulated || len(res.Resources.GPU.Kinds) != 2 ||
			res.Resources.GPU.Kinds[0].Want != "any" || res.Resources.GPU.Kinds[1].Want != "whole" ||
			!strings.Contains(res.Resources.GPU.Kinds[1].Label, "simulated A100-80GB") {
			t.Fatalf("offer = %+v", res.Resources)
		}
		amy.Put(t, "/api/projects/"+a.ID+"/resources", map[string]any{"gpu": "mig-1g.10gb"}).WantError(t, 400, "gpu_unsatisfiable")
		amy.Put(t, "/api/projects/"+a.ID+"/resources", map[string]any{"gpu": "lots"}).WantError(t, 400, "gpu_want_invalid")
		amy.Put(t, "/api/projects/"+a.ID+"/resources", map[string]any{"gpu": "any"}).WantStatus(t, 200).Decode(t, &res)
		if res.Resources.Effective.GPU != "any" {
			t.Fatalf("after choosing a GPU: %+v", res.Resources)
		}
		ben.Put(t, "/api/projects/"+b.ID+"/resources", map[string]any{"gpu": "whole"}).WantStatus(t, 200)
		if st := sandboxOf(t, amy, a.ID); st.Sandbox.Running || st.Sandbox.GPU == nil || st.Sandbox.GPU.State != "idle" {
			t.Fatalf("before any sandbox: %+v", st)
		}

		// Amy's sandbox holds the GPU: its environment names it.
		env := execIn(t, amy, a.ID, map[string]any{"command": "echo $CUDA_VISIBLE_DEVICES $NVIDIA_VISIBLE_DEVICES"})
		if env.Stdout != "GPU-SIMULATED-0 GPU-SIMULATED-0\n" {
			t.Fatalf("GPU env = %+v", env)
		}
		st := sandboxOf(t, amy, a.ID)
		if g := st.Sandbox.GPU; g == nil || g.State != "held" || g.Unit == nil || g.Unit.Name != "simulated A100-80GB" || !g.Unit.Simulated ||
			g.Usage == nil || g.Usage.Measured || g.Usage.Reason != "simulated GPU: no readings" {
			t.Fatalf("held: %+v", st.Sandbox.GPU)
		}

		// Ben's run waits in line while Amy's sandbox holds it.
		ben.Put(t, "/api/projects/"+b.ID+"/files/ecode.toml", "run = \"echo got $CUDA_VISIBLE_DEVICES\"\n").WantStatus(t, 204)
		r := startRun(t, ben, b.ID)
		deadline := time.Now().Add(20 * time.Second)
		for {
			g := sandboxOf(t, ben, b.ID).Sandbox.GPU
			if g != nil && g.State == "waiting" {
				if g.Message != "Waiting for a GPU: 1st in line for a whole GPU; 1 of 1 in use" {
					t.Fatalf("wait message = %q", g.Message)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("ben's sandbox never waited: %+v", g)
			}
			time.Sleep(20 * time.Millisecond)
		}
		var snap struct {
			Pool struct {
				Units []struct{ UUID, Owner string }
				Queue []struct{ Owner string }
			}
		}
		amy.Get(t, "/api/admin/gpus").WantStatus(t, 200).Decode(t, &snap)
		if len(snap.Pool.Units) != 1 || snap.Pool.Units[0].Owner != "sandbox "+a.ID || len(snap.Pool.Queue) != 1 || snap.Pool.Queue[0].Owner != "sandbox "+b.ID {
			t.Fatalf("admin view = %+v", snap)
		}
		ben.Get(t, "/api/admin/gpus").WantError(t, 403, "forbidden")
		var health struct {
			Checks map[string]struct {
				Status string
				Detail struct{ Units, InUse, Waiting int }
			}
		}
		s.Anonymous().Get(t, "/api/monitoring/health").Decode(t, &health)
		if g := health.Checks["gpus"]; g.Status != "ok" || g.Detail.Units != 1 || g.Detail.InUse != 1 || g.Detail.Waiting != 1 {
			t.Fatalf("health: %+v", health.Checks["gpus"])
		}

		// Amy's sandbox idles out, its lease goes to Ben's, and his run ends.
		waitIdleStop(t, s, a.ID)
		r = waitRun(t, ben, b.ID, r.ID, func(r runView) bool { return r.Status != "starting" && r.Status != "running" })
		out := string(ben.Get(t, "/api/projects/"+b.ID+"/runs/"+r.ID+"/output").WantStatus(t, 200).Body)
		if r.Status != "exited" || !strings.Contains(out, "Waiting for a GPU: 1st in line for a whole GPU; 1 of 1 in use") ||
			!strings.Contains(out, "got GPU-SIMULATED-0") {
			t.Fatalf("ben's run %+v: %q", r, out)
		}

		// Amy's GPU time reached billing.
		deadline = time.Now().Add(10 * time.Second)
		for {
			var ms int64
			if err := s.App.DB.Get(context.Background(), &ms, `SELECT COALESCE(SUM(quantity), 0) FROM usage_events WHERE meter = 'sandbox.gpu' AND project_id = ?`, a.ID); err != nil {
				t.Fatal(err)
			}
			if ms >= 1000 { // held at least until the 1 s idle stop
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("GPU time metered: %d ms", ms)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}, testserver.WithSandboxIdle(time.Second), func(c *config.Config) {
		c.GPUSimulate = "1xA100-80GB"
		c.MeterInterval = 100 * time.Millisecond
	})
}

// TestNoGPU: a server without GPUs offers none, says why, and refuses a
// project's ask.
func TestNoGPU(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		amy := s.SignUp(t, "amy")
		p := amy.CreateProject(t, "Plain")
		var res struct {
			Resources struct {
				GPU struct {
					Kinds  []any
					Reason string
				}
			}
		}
		amy.Get(t, "/api/projects/"+p.ID+"/resources").WantStatus(t, 200).Decode(t, &res)
		if len(res.Resources.GPU.Kinds) != 0 || res.Resources.GPU.Reason != "This server has no GPU: GPUs are turned off (ECODE_GPUS=off)." {
			t.Fatalf("offer = %+v", res.Resources.GPU)
		}
		amy.Put(t, "/api/projects/"+p.ID+"/resources", map[string]any{"gpu": "any"}).WantError(t, 400, "gpu_unavailable")
		var admin struct {
			Inventory struct {
				Devices []any
				Reason  string
			}
		}
		amy.Get(t, "/api/admin/gpus").WantStatus(t, 200).Decode(t, &admin)
		if len(admin.Inventory.Devices) != 0 || admin.Inventory.Reason == "" {
			t.Fatalf("admin view = %+v", admin)
		}
	}, func(c *config.Config) { c.GPUs = "off" })
}
