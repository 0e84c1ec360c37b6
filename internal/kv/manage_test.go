package kv_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"ecode/internal/kv"
	"ecode/internal/testserver"
)

type page struct {
	Entries []kv.Entry
	Next    string
	Usage   kv.Usage
}

func listKeys(t *testing.T, c *testserver.Client, base, query string) page {
	t.Helper()
	var p page
	c.Get(t, base+"?"+query).WantStatus(t, 200).Decode(t, &p)
	return p
}

func keysOf(p page) []string {
	keys := make([]string, len(p.Entries))
	for i, e := range p.Entries {
		keys[i] = e.Key
	}
	return keys
}

// The pane's routes set, read, list by prefix in pages, and delete a
// project environment's entries, and audit the changes.
func TestManageEntries(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ada := s.SignUp(t, "ada")
		p := ada.CreateProject(t, "Kv")
		base := "/api/projects/" + p.ID + "/kv/dev"
		value := func(k string) string { return base + "/value?key=" + url.QueryEscape(k) }

		for i := range 5 {
			ada.Put(t, value(fmt.Sprintf("user:%d", i)), map[string]string{"value": fmt.Sprintf(`{"n":%d}`, i)}).WantStatus(t, 200)
		}
		var set struct{ Entry kv.Entry }
		ada.Put(t, value("a b/ü"), map[string]string{"value": `"text"`}).WantStatus(t, 200).Decode(t, &set)
		if set.Entry.Key != "a b/ü" || set.Entry.Size != int64(len("a b/ü")+len(`"text"`)) || set.Entry.Updated == 0 {
			t.Fatalf("set answered %+v", set.Entry)
		}

		var got struct {
			kv.Entry
			Value string
		}
		ada.Get(t, value("a b/ü")).WantStatus(t, 200).Decode(t, &got)
		if got.Value != `"text"` || got.Key != "a b/ü" {
			t.Fatalf("get answered %+v", got)
		}

		all := listKeys(t, ada, base, "")
		if want := []string{"a b/ü", "user:0", "user:1", "user:2", "user:3", "user:4"}; !slices.Equal(keysOf(all), want) || all.Next != "" {
			t.Fatalf("listed %q next %q, want %q", keysOf(all), all.Next, want)
		}
		if all.Usage.Keys != 6 || all.Usage.MaxKeys != kv.MaxKeys || all.Usage.MaxBytes != kv.MaxTotalBytes {
			t.Fatalf("usage %+v", all.Usage)
		}

		first := listKeys(t, ada, base, "prefix=user:&limit=2")
		second := listKeys(t, ada, base, "prefix=user:&limit=2&after="+url.QueryEscape(first.Next))
		last := listKeys(t, ada, base, "prefix=user:&limit=2&after="+url.QueryEscape(second.Next))
		if paged := slices.Concat(keysOf(first), keysOf(second), keysOf(last)); !slices.Equal(paged, keysOf(all)[1:]) || last.Next != "" {
			t.Fatalf("paged %q (next %q), want %q", paged, last.Next, keysOf(all)[1:])
		}

		// The environments and projects are apart.
		if prod := listKeys(t, ada, "/api/projects/"+p.ID+"/kv/prod", ""); len(prod.Entries) != 0 || prod.Usage.Keys != 0 {
			t.Fatalf("prod lists %+v", prod)
		}
		other := ada.CreateProject(t, "Other")
		if o := listKeys(t, ada, "/api/projects/"+other.ID+"/kv/dev", ""); len(o.Entries) != 0 {
			t.Fatalf("another project lists %+v", o)
		}

		ada.Delete(t, value("user:0")).WantStatus(t, 204)
		ada.Delete(t, value("user:0")).WantError(t, 404, "kv_key_not_found")
		ada.Get(t, value("user:0")).WantError(t, 404, "kv_key_not_found")

		for _, tc := range []struct {
			method, path string
			body         any
			status       int
			code         string
		}{
			{"GET", "/api/projects/" + p.ID + "/kv/staging", nil, 400, "invalid_env"},
			{"GET", base + "?limit=0", nil, 400, "invalid_limit"},
			{"GET", base + "/value", nil, 400, "kv_key_empty"},
			{"PUT", value(strings.Repeat("k", kv.MaxKeyBytes+1)), map[string]string{"value": "v"}, 413, "kv_key_too_long"},
			{"PUT", value("big"), map[string]string{"value": strings.Repeat("v", kv.MaxValueBytes+1)}, 413, "kv_value_too_large"},
			{"PUT", value("k"), map[string]string{}, 400, "kv_value_missing"},
			{"PUT", value("k"), map[string]any{"value": "v", "other": 1}, 400, "invalid_json"},
		} {
			ada.Do(t, tc.method, tc.path, tc.body).WantError(t, tc.status, tc.code)
		}

		// A value as large as the store takes, in a body larger than the house's 1 MiB.
		ada.Put(t, value("big"), map[string]string{"value": strings.Repeat("v", kv.MaxValueBytes)}).WantStatus(t, 200)

		var audit struct{ Entries []struct{ Action string } }
		ada.Get(t, "/api/user/audit").WantStatus(t, 200).Decode(t, &audit)
		actions := make([]string, len(audit.Entries))
		for i, e := range audit.Entries {
			actions[i] = e.Action
		}
		if !slices.Contains(actions, "kv.set") || !slices.Contains(actions, "kv.delete") {
			t.Fatalf("audit log holds %q", actions)
		}
	})
}

// Only members who may change the project reach its entries: a viewer,
// a stranger and anonymous callers do not.
func TestManageNeedsWrite(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ada := s.SignUp(t, "ada")
		vera := s.SignUp(t, "vera")
		eddy := s.SignUp(t, "eddy")
		p := ada.CreateProject(t, "Kv")
		base := "/api/projects/" + p.ID
		ada.Post(t, base+"/members", map[string]string{"username": "vera", "role": "viewer"}).WantStatus(t, 201)
		ada.Post(t, base+"/members", map[string]string{"username": "eddy", "role": "editor"}).WantStatus(t, 201)
		ada.Put(t, base+"/kv/dev/value?key=k", map[string]string{"value": "v"}).WantStatus(t, 200)

		eddy.Get(t, base+"/kv/dev/value?key=k").WantStatus(t, 200)
		for _, c := range []*testserver.Client{vera, s.SignUp(t, "stan"), s.Anonymous()} {
			if res := c.Get(t, base+"/kv/dev"); res.StatusCode < 400 {
				t.Fatalf("a caller without write access listed the entries: %d", res.StatusCode)
			}
			if res := c.Put(t, base+"/kv/dev/value?key=k", map[string]string{"value": "x"}); res.StatusCode < 400 {
				t.Fatalf("a caller without write access set a key: %d", res.StatusCode)
			}
		}
		var got struct{ Value string }
		ada.Get(t, base+"/kv/dev/value?key=k").WantStatus(t, 200).Decode(t, &got)
		if got.Value != "v" {
			t.Fatalf("value is %q after refused sets", got.Value)
		}
	})
}
