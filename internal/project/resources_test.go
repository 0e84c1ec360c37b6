package project_test

import (
	"strings"
	"testing"

	"ecode/internal/config"
	"ecode/internal/project"
	"ecode/internal/testserver"
)

// smallCeilings: projects start at 256 MiB, 1 CPU, 128 processes and 32 MiB
// of disk, and may go up to 512 MiB, 2 CPUs, 256 processes and 64 MiB.
func smallCeilings(c *config.Config) {
	c.MaxFileBytes, c.MaxProjectBytes = 20<<20, 32<<20
	c.Sandbox = config.SandboxLimits{Memory: 256 << 20, MaxMemory: 512 << 20, CPUs: 1, MaxCPUs: 2, Pids: 128, MaxPids: 256, MaxDisk: 64 << 20}
}

type resourcesBody struct {
	Resources project.ResourceSettings `json:"resources"`
}

func TestProjectResources(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		olly := s.SignUp(t, "olly")
		p := olly.CreateProject(t, "Heavy")
		other := olly.CreateProject(t, "Light")
		base := "/api/projects/" + p.ID + "/resources"

		var got resourcesBody
		olly.Get(t, base).WantStatus(t, 200).Decode(t, &got)
		want := project.Resources{MemoryBytes: 256 << 20, CPUs: 1, Pids: 128, DiskBytes: 32 << 20}
		if got.Resources.Effective != want || got.Resources.Default != want || !got.Resources.CanEdit {
			t.Fatalf("a new project's resources %+v, want the defaults %+v", got.Resources, want)
		}
		if max := (project.Resources{MemoryBytes: 512 << 20, CPUs: 2, Pids: 256, DiskBytes: 64 << 20}); got.Resources.Max != max {
			t.Fatalf("ceilings %+v, want %+v", got.Resources.Max, max)
		}

		for _, c := range []struct {
			body   string
			status int
			code   string
		}{
			{`{"memoryBytes": 1073741824}`, 400, "resources_over_limit"},
			{`{"cpus": 2.5}`, 400, "resources_over_limit"},
			{`{"pids": 257}`, 400, "resources_over_limit"},
			{`{"diskBytes": 68157440}`, 400, "resources_over_limit"},
			{`{"memoryBytes": 1048576}`, 400, "resources_under_minimum"},
			{`{"cpus": 0.01}`, 400, "resources_under_minimum"},
			{`{"pids": 2}`, 400, "resources_under_minimum"},
			{`{"memoryBytes": "lots"}`, 400, "invalid_json"},
		} {
			res := olly.Put(t, base, c.body)
			res.WantError(t, c.status, c.code)
			if c.code == "resources_over_limit" && !strings.Contains(string(res.Body), "at most") {
				t.Errorf("%s: the message names no ceiling: %s", c.body, res.Body)
			}
		}

		olly.Put(t, base, map[string]any{"memoryBytes": 384 << 20, "cpus": 1.5, "pids": 200}).WantStatus(t, 200).Decode(t, &got)
		want = project.Resources{MemoryBytes: 384 << 20, CPUs: 1.5, Pids: 200, DiskBytes: 32 << 20}
		if got.Resources.Effective != want || got.Resources.Custom.DiskBytes != nil {
			t.Fatalf("after the change %+v, want %+v with the default disk", got.Resources, want)
		}
		olly.Get(t, base).WantStatus(t, 200).Decode(t, &got)
		if got.Resources.Effective != want {
			t.Fatalf("stored %+v, want %+v", got.Resources.Effective, want)
		}
		olly.Get(t, "/api/projects/"+other.ID+"/resources").WantStatus(t, 200).Decode(t, &got)
		if got.Resources.Effective.MemoryBytes != 256<<20 {
			t.Fatalf("another project changed with it: %+v", got.Resources.Effective)
		}

		// Only its owner (or an admin of its team) sets them; editors and
		// viewers see them; strangers see nothing.
		eddy, vera, sam := s.SignUp(t, "eddy"), s.SignUp(t, "vera"), s.SignUp(t, "sam")
		olly.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "eddy", "role": "editor"}).WantStatus(t, 201)
		olly.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "vera", "role": "viewer"}).WantStatus(t, 201)
		eddy.Put(t, base, map[string]any{"pids": 256}).WantError(t, 403, "forbidden")
		vera.Get(t, base).WantStatus(t, 200).Decode(t, &got)
		if got.Resources.CanEdit || got.Resources.Effective.Pids != 200 {
			t.Fatalf("a viewer sees %+v", got.Resources)
		}
		sam.Get(t, base).WantError(t, 404, "not_found")

		// Going back to the defaults.
		olly.Put(t, base, map[string]any{}).WantStatus(t, 200).Decode(t, &got)
		if got.Resources.Effective != got.Resources.Default {
			t.Fatalf("after a reset %+v", got.Resources)
		}
	}, smallCeilings)
}

// TestProjectDiskLimit: a project's own disk limit holds its files at
// once, and cannot be set below what they use.
func TestProjectDiskLimit(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		olly := s.SignUp(t, "olly")
		p := olly.CreateProject(t, "Big")
		files := "/api/projects/" + p.ID + "/files/"
		base := "/api/projects/" + p.ID + "/resources"
		olly.Put(t, files+"a.bin", strings.Repeat("a", 18<<20)).WantStatus(t, 204)

		olly.Put(t, base, map[string]any{"diskBytes": 16 << 20}).WantError(t, 409, "resources_below_usage")
		// 32 MiB by default: another 18 MiB does not fit.
		olly.Put(t, files+"b.bin", strings.Repeat("b", 18<<20)).WantError(t, 413, "project_too_large")
		olly.Put(t, base, map[string]any{"diskBytes": 64 << 20}).WantStatus(t, 200)
		olly.Put(t, files+"b.bin", strings.Repeat("b", 18<<20)).WantStatus(t, 204)
	}, smallCeilings)
}
