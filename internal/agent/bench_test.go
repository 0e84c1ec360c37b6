package agent_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"ecode/internal/agent/agenttest"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// BenchmarkPromptToApp is the platform's part of "one prompt to a running
// app": from POST agent/runs to the app answering through its preview,
// with a scripted model that answers at once, in a new project each time
// (so a new sandbox). Install steps are reported apart (install-ms) and
// left out of overhead-ms, as the goal excludes model and install time.
func BenchmarkPromptToApp(b *testing.B) {
	testserver.NeedSandbox(b)
	for _, tc := range []struct {
		name, prompt, path, want string
		script                   agenttest.Script
	}{
		{"hello-node", "Build a hello page", "/", "Hello from the agent", agenttest.HelloPage},
		{"express-todo", "build an Express todo API", "/api/todos", "Try E-Code", agenttest.ExpressTodo},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.name == "express-todo" && testing.Short() {
				b.Skip("installs from the npm registry")
			}
			_, ai := model(b, tc.script)
			s := testserver.New(b, testdb.Engines(b)[0], ai)
			c := s.SignUp(b, "bench")
			var total, install time.Duration
			i := 0
			for b.Loop() {
				i++
				p := publicProject(b, c, fmt.Sprintf("App %d", i))
				start := time.Now()
				r := waitAgent(b, c, p.ID, startAgent(b, c, p.ID, tc.prompt).ID)
				if code, body := previewGet(b, s, "bench", p.Slug, tc.path); code != 200 || !strings.Contains(body, tc.want) {
					b.Fatalf("preview = %d %q (run %s)", code, body, r.Status)
				}
				total += time.Since(start)
				for _, st := range r.Steps {
					if st.Tool == "install_packages" {
						install += time.Duration(st.DurationMs) * time.Millisecond
					}
				}
			}
			n := float64(b.N)
			b.ReportMetric(float64(install.Milliseconds())/n, "install-ms")
			b.ReportMetric(float64((total-install).Milliseconds())/n, "overhead-ms")
		})
	}
}
