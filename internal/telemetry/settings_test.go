package telemetry

import (
	"context"
	"strings"
	"testing"
)

func TestSettings(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		path := "/api/projects/" + e.p1 + "/monitoring"
		ctx := context.Background()
		if tag, inject, err := e.svc.Snippet(ctx, e.p1); err != nil || tag != "" || inject {
			t.Fatalf("snippet before any read = %q %v %v", tag, inject, err)
		}
		var st Settings
		e.do(t, "viewer", "GET", path, nil).want(t, 200).decode(t, &st)
		if !strings.HasPrefix(st.IngestKey, "pk_") || st.Inject || st.ReplaySample != 0.1 || !st.ReplayOnError || !st.MaskText {
			t.Fatalf("defaults = %+v", st)
		}
		want := `<script src="https://ecode.test/sdk/monitor.js" data-key="` + st.IngestKey +
			`" data-endpoint="https://ecode.test" data-replay="0.1" data-replay-on-error="1" data-mask-text="1" defer></script>`
		if st.Snippet != want {
			t.Errorf("snippet\n%s\nwant\n%s", st.Snippet, want)
		}
		var again Settings
		e.do(t, "owner", "GET", path, nil).want(t, 200).decode(t, &again)
		if again.IngestKey != st.IngestKey {
			t.Error("a second read made another key")
		}

		e.do(t, "viewer", "PUT", path, map[string]any{"inject": true}).wantError(t, 403, "forbidden")
		e.do(t, "", "PUT", path, map[string]any{"inject": true}).wantError(t, 404, "not_found")
		e.do(t, "editor", "PUT", path, map[string]any{"replaySample": 1.5}).wantError(t, 400, "invalid_replay_sample")
		e.do(t, "editor", "PUT", path, map[string]any{"bogus": 1}).wantError(t, 400, "unknown_field")
		e.do(t, "editor", "PUT", path, map[string]any{"inject": true, "replaySample": 0.5, "maskText": false}).want(t, 200).decode(t, &st)
		if !st.Inject || st.ReplaySample != 0.5 || st.MaskText || !st.ReplayOnError || !strings.Contains(st.Snippet, `data-replay="0.5"`) {
			t.Errorf("after PUT = %+v", st)
		}
		if tag, inject, err := e.svc.Snippet(ctx, e.p1); err != nil || tag != st.Snippet || !inject {
			t.Errorf("snippet = %q %v %v", tag, inject, err)
		}

		old := st.IngestKey
		e.do(t, "editor", "POST", path+"/key", nil).wantError(t, 403, "forbidden")
		e.send(t, old, pageview(e.at(0), "https://app.test/")) // resolves, and is cached
		e.do(t, "owner", "POST", path+"/key", nil).want(t, 200).decode(t, &st)
		if st.IngestKey == old || !strings.Contains(st.Snippet, st.IngestKey) || !st.Inject {
			t.Errorf("after rotation = %+v", st)
		}
		e.do(t, "", "POST", "/api/monitoring/event?key="+old, []any{pageview(e.at(0), "https://app.test/")}).wantError(t, 401, "unknown_key")
		e.send(t, st.IngestKey, pageview(e.at(0), "https://app.test/"))
		if scope, ok, err := e.svc.Resolve(ctx, st.IngestKey); err != nil || !ok || scope != e.p1 {
			t.Errorf("Resolve = %q %v %v", scope, ok, err)
		}
	})
}

func TestDropScope(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		k1, k2 := e.key(t, e.p1), e.key(t, e.p2)
		for _, k := range []string{k1, k2} {
			e.send(t, k, pageview(e.at(0), "https://app.test/"), jsError(e.at(0), "boom", ""))
		}
		e.svc.ObserveRequest(e.p1, "GET", "/", 200, 0)
		e.flush(t)
		e.svc.ObserveRequest(e.p1, "GET", "/", 200, 0) // not flushed yet
		if err := e.svc.DropScope(ctx, e.p1); err != nil {
			t.Fatal(err)
		}
		e.flush(t)
		for _, table := range append([]string{"telemetry_rollups", "telemetry_error_groups"}, rawTables...) {
			if n := e.count(t, table, e.p1); n != 0 {
				t.Errorf("%s keeps %d rows of the dropped scope", table, n)
			}
		}
		if e.count(t, "telemetry_events", e.p2) != 1 || e.count(t, "telemetry_error_groups", e.p2) != 1 {
			t.Error("another scope lost its data")
		}
		if _, ok, err := e.svc.Resolve(ctx, k1); ok || err != nil {
			t.Errorf("the dropped project's key still resolves (%v)", err)
		}
		if _, ok, err := e.svc.Resolve(ctx, k2); !ok || err != nil {
			t.Errorf("another project's key stopped resolving (%v)", err)
		}
	})
}
