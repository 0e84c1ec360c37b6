package cluster_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"ecode/internal/config"
	"ecode/internal/store"
	"ecode/internal/testserver"
)

// TestDeletedWhereNotHeld: a project deleted through a server that does
// not hold it (its owner's account goes, which is served wherever it
// lands) ends on its holder at once: the sandbox stops and the tabs
// close, through either server; its holder row goes with it.
func TestDeletedWhereNotHeld(t *testing.T) {
	testserver.NeedSandbox(t)
	cl := testserver.NewCluster(t)
	// Leases long enough that no beat comes during the test: the holder's
	// next beat would also see its row gone.
	slow := func(cfg *config.Config) { cfg.ClusterLease = 10 * time.Minute }
	a, b := cl.Join(t, "a", slow), cl.Join(t, "b", slow)
	kim := a.SignUp(t, "kim")
	p := kim.CreateProject(t, "Doomed")
	marker := store.NewID()
	kim.Put(t, "/api/projects/"+p.ID+"/secrets/MARKER", map[string]string{"value": marker}).WantStatus(t, http.StatusNoContent)
	kim.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml", "run = \"sleep 3600\"\n").WantStatus(t, http.StatusNoContent)
	kim.Post(t, "/api/projects/"+p.ID+"/run", nil).WantStatus(t, http.StatusAccepted)
	eventually(t, "the run's process starts on a", func() bool {
		return a.App.Runs.SandboxRunning(p.ID) && len(testserver.MarkedProcesses("MARKER="+marker)) > 0
	})

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var closed []chan struct{}
	for _, s := range []*testserver.Server{a, b} {
		url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/projects/" + p.ID + "/ws"
		conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {kim.CookieHeader(t)}}})
		if err != nil {
			t.Fatalf("a tab through %s: %v", s.App.Config.ServerID, err)
		}
		defer conn.CloseNow()
		conn.Write(ctx, websocket.MessageText, []byte(`{"type":"doc.open","path":"ecode.toml"}`))
		for opened := false; !opened; {
			_, msg, err := conn.Read(ctx)
			if err != nil {
				t.Fatalf("a tab through %s: %v", s.App.Config.ServerID, err)
			}
			var m struct{ Type string }
			_ = json.Unmarshal(msg, &m)
			opened = m.Type == "doc.opened"
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				if _, _, err := conn.Read(ctx); err != nil {
					return
				}
			}
		}()
		closed = append(closed, done)
	}
	var holder string
	if err := b.App.DB.Get(ctx, &holder, `SELECT server_id FROM project_holders WHERE project_id = ?`, p.ID); err != nil || holder != "a" {
		t.Fatalf("project held by %q (%v), want a", holder, err)
	}

	kim.On(b).Do(t, http.MethodDelete, "/api/auth/me", map[string]string{"confirm": "kim", "password": "password-kim"}).WantStatus(t, http.StatusNoContent)
	eventually(t, "a stops the deleted project's sandbox", func() bool {
		return !a.App.Runs.SandboxRunning(p.ID) && len(testserver.MarkedProcesses("MARKER="+marker)) == 0
	})
	for i, done := range closed {
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatalf("tab %d stayed open on the deleted project", i)
		}
	}
	var rows int
	if err := b.App.DB.Get(ctx, &rows, `SELECT COUNT(*) FROM project_holders WHERE project_id = ?`, p.ID); err != nil || rows != 0 {
		t.Fatalf("holder rows of the deleted project: %d (%v)", rows, err)
	}
}
