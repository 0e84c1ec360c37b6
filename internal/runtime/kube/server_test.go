package kube_test

import (
	"ecode/internal/config"
	"ecode/internal/runtime/kube"
	"net/http"
	"testing"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// The whole server on the kube runtime: a project's commands run in its
// pod, and the health endpoint reports the cluster.
func TestServerOnKube(t *testing.T) {
	cs := kube.Cluster(t)
	ns := kube.Namespace(t, cs)
	kubeconfig, registry := kube.ClusterConfig()
	image := testserver.SandboxImage(t)
	s := testserver.New(t, testdb.Engines(t)[0], testserver.WithKube(kubeconfig, ns, registry),
		func(c *config.Config) { c.SandboxImage = image })
	c := s.SignUp(t, "ada")
	p := c.CreateProject(t, "on-kube")
	var out struct {
		ExitCode int    `json:"exitCode"`
		Stdout   string `json:"stdout"`
	}
	c.Post(t, "/api/projects/"+p.ID+"/exec", map[string]any{"command": "echo $(id -un) in $(hostname) at $PWD", "timeoutSec": 120}).
		WantStatus(t, http.StatusOK).Decode(t, &out)
	if out.ExitCode != 0 || out.Stdout != "runner in sandbox at /home/runner/project\n" {
		t.Fatalf("exec = %+v", out)
	}
	var health struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status string `json:"status"`
		} `json:"checks"`
	}
	s.Anonymous().Get(t, "/api/monitoring/health").WantStatus(t, http.StatusOK).Decode(t, &health)
	if health.Checks["runtime"].Status != "ok" {
		t.Errorf("health = %+v", health)
	}
}
