package team_test

import (
	"fmt"
	"testing"

	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// BenchmarkFileRead reads a file of a person's project and of a team's
// project behind a full allowlist (200 networks), through the real server
// over HTTP on SQLite: what a team's roles and allowlist add to a request.
func BenchmarkFileRead(b *testing.B) {
	s := testserver.New(b, testdb.Engines(b)[0])
	ann := s.SignUp(b, "ann")
	own := ann.CreateProject(b, "Own")
	ann.Post(b, "/api/teams", map[string]string{"name": "bench"}).WantStatus(b, 201)
	var created struct{ Project struct{ ID string } }
	ann.Post(b, "/api/projects", map[string]string{"name": "Theirs", "owner": "bench"}).WantStatus(b, 201).Decode(b, &created)
	list := make([]string, 200)
	for i := range list {
		list[i] = fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
	}
	list[len(list)-1] = "127.0.0.1"
	ann.Put(b, "/api/teams/bench/allowlist", map[string]any{"allowlist": list}).WantStatus(b, 200)
	for name, id := range map[string]string{"personal": own.ID, "team-allowlist-200": created.Project.ID} {
		path := "/api/projects/" + id + "/files/a.txt"
		ann.Put(b, path, "hello").WantStatus(b, 204)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				ann.Get(b, path).WantStatus(b, 200)
			}
		})
	}
}
