package run_test

import (
	"net/http"
	"testing"

	"ecode/internal/testserver"
)

// The project list says, live, which projects are running.
func TestProjectListShowsRunning(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		dan := s.SignUp(t, "dan")
		p := dan.CreateProject(t, "Listed")
		idle := dan.CreateProject(t, "Idle")
		dan.Put(t, "/api/projects/"+p.ID+"/files/index.js", server).WantStatus(t, http.StatusNoContent)
		running := func() map[string]bool {
			var out struct {
				Projects []struct {
					ID      string
					Running bool
				}
			}
			dan.Get(t, "/api/projects").WantStatus(t, http.StatusOK).Decode(t, &out)
			m := map[string]bool{}
			for _, p := range out.Projects {
				m[p.ID] = p.Running
			}
			return m
		}

		r := startRun(t, dan, p.ID)
		waitRun(t, dan, p.ID, r.ID, func(r runView) bool { return r.Status == "running" })
		if now := running(); !now[p.ID] || now[idle.ID] {
			t.Fatalf("while %s runs the list says %v", p.ID, now)
		}
		dan.Post(t, "/api/projects/"+p.ID+"/stop", nil).WantStatus(t, http.StatusNoContent)
		if now := running(); now[p.ID] {
			t.Fatalf("after Stop the list says %v", now)
		}
	})
}
