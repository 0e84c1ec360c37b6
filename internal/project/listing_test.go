package project_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"ecode/internal/testserver"
)

type listed struct {
	ID           string `json:"id"`
	Language     string `json:"language"`
	LastEditedAt int64  `json:"lastEditedAt"`
	UpdatedAt    int64  `json:"updatedAt"`
	Running      bool   `json:"running"`
}

func listedProjects(t *testing.T, c *testserver.Client) map[string]listed {
	t.Helper()
	var out struct{ Projects []listed }
	c.Get(t, "/api/projects").WantStatus(t, http.StatusOK).Decode(t, &out)
	byID := map[string]listed{}
	for _, p := range out.Projects {
		byID[p.ID] = p
	}
	return byID
}

// The list says each project's language (its template's, or for a blank
// one what its files show) and when its files last changed, however they
// changed.
func TestListShowsLanguageAndLastEdit(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		var py struct{ Project testserver.Project }
		alice.Post(t, "/api/projects", map[string]string{"name": "Py", "template": "python"}).WantStatus(t, http.StatusCreated).Decode(t, &py)
		blank := alice.CreateProject(t, "Blank")
		grown := alice.CreateProject(t, "Grown")
		alice.Put(t, "/api/projects/"+grown.ID+"/files/go.mod", "module grown\n").WantStatus(t, http.StatusNoContent)

		list := listedProjects(t, alice)
		for id, want := range map[string]string{py.Project.ID: "python", blank.ID: "text", grown.ID: "go"} {
			if got := list[id].Language; got != want {
				t.Errorf("project %s language = %q, want %q", id, got, want)
			}
		}
		before := list[py.Project.ID]
		if before.LastEditedAt < before.UpdatedAt {
			t.Fatalf("last edit %d before the project's update %d", before.LastEditedAt, before.UpdatedAt)
		}

		// An edit the editors make (through the tree, as collaboration does)
		// moves the last edit forward.
		time.Sleep(5 * time.Millisecond)
		p, err := s.App.Projects.Lookup(context.Background(), "alice", py.Project.Slug)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.Projects.Tree(p).Write("main.py", strings.NewReader("print('edited')\n")); err != nil {
			t.Fatal(err)
		}
		after := listedProjects(t, alice)[py.Project.ID]
		if after.LastEditedAt <= before.LastEditedAt {
			t.Fatalf("last edit %d did not move past %d after a write", after.LastEditedAt, before.LastEditedAt)
		}
		if after.Running {
			t.Fatal("a project that never ran is listed as running")
		}
	})
}
