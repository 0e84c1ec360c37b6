package deploy_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"ecode/internal/config"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// gpuWorker is an always-on worker that says which GPU it was given.
const gpuWorker = "run = \"sh -c 'echo gpu=$CUDA_VISIBLE_DEVICES; while true; do sleep 0.2; done'\"\n\n[deployment]\ntarget = \"vm\"\n"

// TestGPUInstances: with one simulated GPU (no hardware: instances get
// its environment), a vm deployment's instance holds it; another's waits
// in line, saying so in its log, and starts once the first redeploys
// without one. The GPU's time is metered.
func TestGPUInstances(t *testing.T) {
	testserver.NeedSandbox(t)
	s := testserver.New(t, testdb.Engines(t)[0], func(c *config.Config) {
		c.GPUSimulate = "1xA100-80GB"
		c.MeterInterval = 100 * time.Millisecond
	})
	dora := s.SignUp(t, "dora")
	a := project(t, dora, "Trainer", map[string]string{"ecode.toml": gpuWorker + "gpu = \"whole\"\n"})

	var got struct {
		Config struct {
			GPU      string
			GPUKinds struct{ Kinds []struct{ Want string } }
		}
	}
	dora.Get(t, "/api/projects/"+a.ID+"/deployment").WantStatus(t, http.StatusOK).Decode(t, &got)
	if got.Config.GPU != "whole" || len(got.Config.GPUKinds.Kinds) != 2 {
		t.Fatalf("settings: %+v", got.Config)
	}
	for _, bad := range []struct {
		body       map[string]any
		status     int
		code, text string
	}{
		{map[string]any{"target": "static", "gpu": "any"}, 400, "invalid_deployment", "only autoscale and vm"},
		{map[string]any{"target": "vm", "gpu": "mig-1g.10gb"}, 400, "gpu_unsatisfiable", "no GPU here can serve"},
		{map[string]any{"target": "vm", "gpu": "two"}, 400, "gpu_want_invalid", "is not a GPU choice"},
	} {
		res := dora.Put(t, "/api/projects/"+a.ID+"/deployment/config", bad.body).WantError(t, bad.status, bad.code)
		if !strings.Contains(string(res.Body), bad.text) {
			t.Errorf("%v: %s", bad.body, res.Body)
		}
	}

	r, log := finish(t, dora, a.ID, deploy(t, dora, a.ID).ID)
	if r.Status != "ready" || !strings.Contains(log, "gpu=GPU-SIMULATED-0") {
		t.Fatalf("first release: %+v\n%s", r, log)
	}

	// The second deployment's instance waits for the GPU.
	b := project(t, dora, "Tuner", map[string]string{"ecode.toml": gpuWorker + "gpu = \"any\"\n"})
	second := deploy(t, dora, b.ID)
	eventually(t, 30*time.Second, "the second instance waits in line", func() bool {
		res := dora.Get(t, "/api/projects/"+b.ID+"/deployment/logs?q=Waiting").WantStatus(t, http.StatusOK)
		return strings.Contains(string(res.Body), "Waiting for a GPU: 1st in line for a GPU; 1 of 1 in use")
	})

	// The first lets go of it by going live without one.
	dora.Put(t, "/api/projects/"+a.ID+"/files/ecode.toml", gpuWorker).WantStatus(t, http.StatusNoContent)
	if r, log := finish(t, dora, a.ID, deploy(t, dora, a.ID).ID); r.Status != "ready" || !strings.Contains(log, "gpu=\n") {
		t.Fatalf("release without a GPU: %+v\n%s", r, log)
	}
	if r, log := finish(t, dora, b.ID, second.ID); r.Status != "ready" || !strings.Contains(log, "gpu=GPU-SIMULATED-0") {
		t.Fatalf("second deployment: %+v\n%s", r, log)
	}

	eventually(t, 10*time.Second, "GPU time metered", func() bool {
		var ms int64
		if err := s.App.DB.Get(context.Background(), &ms, `SELECT COALESCE(SUM(quantity), 0) FROM usage_events WHERE meter = 'sandbox.gpu' AND project_id = ?`, a.ID); err != nil {
			t.Fatal(err)
		}
		return ms > 0
	})
}
