package telemetry

import (
	"testing"
	"time"
)

func TestFingerprint(t *testing.T) {
	a := fingerprint("TypeError", "Cannot read 'x' of undefined at 12", "TypeError: boom\n    at render (https://app.test/main.js:10:5)\n    at run (https://app.test/main.js:20:1)")
	same := []struct{ name, message, stack string }{
		{"TypeError", "Cannot read 'y' of undefined at 99", "TypeError: boom\n    at render (https://app.test/main.js:11:7)\n    at run (https://app.test/main.js:21:3)"},
		{"TypeError", "Cannot read \"z\" of undefined at 1", "TypeError: boom\n    at render (https://app.test/main.js?v=2:10:5)\n    at run (https://app.test/main.js:20:1)"},
	}
	for _, c := range same {
		if got := fingerprint(c.name, c.message, c.stack); got != a {
			t.Errorf("fingerprint(%q) = %s, want the same group %s", c.message, got, a)
		}
	}
	other := []struct{ name, message, stack string }{
		{"RangeError", "Cannot read 'x' of undefined at 12", "TypeError: boom\n    at render (https://app.test/main.js:10:5)\n    at run (https://app.test/main.js:20:1)"},
		{"TypeError", "Cannot write 'x' of undefined at 12", "TypeError: boom\n    at render (https://app.test/main.js:10:5)\n    at run (https://app.test/main.js:20:1)"},
		{"TypeError", "Cannot read 'x' of undefined at 12", "TypeError: boom\n    at paint (https://app.test/main.js:10:5)\n    at run (https://app.test/main.js:20:1)"},
	}
	for _, c := range other {
		if got := fingerprint(c.name, c.message, c.stack); got == a {
			t.Errorf("fingerprint(%q, %q) joined another group", c.name, c.message)
		}
	}
	if len(a) != 16 {
		t.Errorf("fingerprint %q is not 16 hex", a)
	}
	// Firefox frames group too.
	ff := fingerprint("E", "m", "render@https://app.test/main.js:10:5\nrun@https://app.test/main.js:20:1")
	if ff != fingerprint("E", "m", "render@https://app.test/main.js:99:1\nrun@https://app.test/main.js:2:1") {
		t.Error("Firefox frames at other lines split the group")
	}
}

func TestErrorGroups(t *testing.T) {
	engines(t, Options{}, func(t *testing.T, e *env) {
		key := e.key(t, e.p1)
		stack := func(line string) string {
			return "TypeError: x\n    at f (https://app.test/a.js:" + line + ":2)\n    at g (https://app.test/a.js:9:9)"
		}
		e.send(t, key, jsError(e.at(-time.Minute), "user 17 not found", stack("1")))
		e.send(t, key, jsError(e.at(0), "user 42 not found", stack("5")))
		e.send(t, key, jsError(e.at(0), "something else", stack("5")))

		var list struct{ Groups []Group }
		e.do(t, "viewer", "GET", "/api/projects/"+e.p1+"/monitoring/errors?range=24h", nil).want(t, 200).decode(t, &list)
		if len(list.Groups) != 2 {
			t.Fatalf("groups = %+v", list.Groups)
		}
		var g Group
		for _, x := range list.Groups {
			if x.Count == 2 {
				g = x
			}
		}
		if g.Fingerprint == "" || g.Status != "open" || g.Message != "user 42 not found" || g.Sessions != 1 ||
			g.FirstSeen != e.at(-time.Minute) || g.LastSeen != e.at(0) || len(g.Spark) != 24 {
			t.Fatalf("group = %+v", g)
		}
		var spark int64
		for _, n := range g.Spark {
			spark += n
		}
		if spark != 2 {
			t.Errorf("spark %v sums to %d, want 2", g.Spark, spark)
		}

		path := "/api/projects/" + e.p1 + "/monitoring/errors/" + g.Fingerprint
		var one struct {
			Group       Group
			Occurrences []Occurrence
		}
		e.do(t, "viewer", "GET", path, nil).want(t, 200).decode(t, &one)
		if one.Group.Count != 2 || len(one.Occurrences) != 2 || one.Occurrences[0].Message != "user 42 not found" {
			t.Errorf("detail = %+v", one)
		}
		e.do(t, "viewer", "PATCH", path, map[string]string{"status": "resolved"}).wantError(t, 403, "forbidden")
		e.do(t, "editor", "PATCH", path, map[string]string{"status": "closed"}).wantError(t, 400, "bad_status")
		e.do(t, "editor", "PATCH", "/api/projects/"+e.p1+"/monitoring/errors/0000000000000000", map[string]string{"status": "resolved"}).wantError(t, 404, "not_found")
		e.do(t, "editor", "PATCH", path, map[string]string{"status": "resolved"}).want(t, 200).decode(t, &one)
		if one.Group.Status != "resolved" {
			t.Fatalf("after resolve: %+v", one.Group)
		}
		e.do(t, "viewer", "GET", "/api/projects/"+e.p1+"/monitoring/errors?status=resolved", nil).want(t, 200).decode(t, &list)
		if len(list.Groups) != 1 {
			t.Errorf("resolved groups = %+v", list.Groups)
		}

		// It happens again, in another session: it regressed.
		again := jsError(e.at(0), "user 7 not found", stack("8"))
		again["session"] = "another_session"
		e.send(t, key, again)
		e.do(t, "viewer", "GET", path, nil).want(t, 200).decode(t, &one)
		if one.Group.Status != "open" || one.Group.Count != 3 || one.Group.Sessions != 2 {
			t.Errorf("after regression: %+v", one.Group)
		}
		e.do(t, "viewer", "GET", "/api/projects/"+e.p1+"/monitoring/errors?status=resolved", nil).want(t, 200).decode(t, &list)
		if len(list.Groups) != 0 {
			t.Errorf("resolved groups after regression = %+v", list.Groups)
		}
		// Another project's viewer learns nothing.
		e.do(t, "viewer", "GET", "/api/projects/"+e.p2+"/monitoring/errors", nil).wantError(t, 404, "not_found")
	})
}
