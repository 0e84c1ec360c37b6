package kv

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

// newStore answers a store over a fresh database holding projects p1 and p2.
func newStore(t testing.TB, e testdb.Engine) (*Store, *httptest.Server) {
	t.Helper()
	db := testdb.Open(t, e)
	ctx := context.Background()
	now := store.Now()
	if _, err := db.Exec(ctx, `INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES ('u1', 'ada', 'ada@example.com', 'x', ?, ?)`, now, now); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"p1", "p2"} {
		if _, err := db.Exec(ctx, `INSERT INTO projects (id, owner_id, slug, name, created_at, updated_at) VALUES (?, 'u1', ?, 'P', ?, ?)`, id, id, now, now); err != nil {
			t.Fatal(err)
		}
	}
	s := New(db, bytes.Repeat([]byte{7}, 32))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

// client speaks to the store the way the Node and Python clients do.
type client struct {
	t    *testing.T
	base string // http://host/v0/<token>
}

func (c client) do(method, path, contentType string, body io.Reader) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// setNode sets one key as @replit/database does: encodeURIComponent on both sides.
func (c client) setNode(key, value string) int {
	code, _ := c.do("POST", "", "application/x-www-form-urlencoded", strings.NewReader(encodeURIComponent(key)+"="+encodeURIComponent(value)))
	return code
}

// encodeURIComponent is JavaScript's: space as %20, and !'()* left as they are.
func encodeURIComponent(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	for _, c := range []string{"!", "'", "(", ")", "*"} {
		e = strings.ReplaceAll(e, url.QueryEscape(c), c)
	}
	return e
}

func TestReplitProtocol(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s, srv := newStore(t, e)
			c := client{t: t, base: srv.URL + Prefix + s.Token(Scope{ProjectID: "p1", Env: "dev"}, time.Hour)}

			odd := []string{"plain", "a/b", "a//b", "/lead", "with space", "plus+sign", "semi;colon", "eq=ual", "amp&ersand", "new\nline", "ünï"}
			for i, k := range odd {
				if code := c.setNode(k, `{"n":`+string(rune('0'+i%10))+`}`); code != 204 {
					t.Fatalf("set %q: %d", k, code)
				}
			}
			for i, k := range odd {
				// Node: GET {url}/{encodeURIComponent(key)}.
				code, body := c.do("GET", "/"+encodeURIComponent(k), "", nil)
				if code != 200 || body != `{"n":`+string(rune('0'+i%10))+`}` {
					t.Errorf("get %q (Node): %d %q", k, code, body)
				}
			}
			// Python: quote() keeps "/" literal, so "/lead" arrives as "//lead".
			if code, body := c.do("GET", "//lead", "", nil); code != 200 || body != `{"n":3}` {
				t.Errorf("get /lead (Python): %d %q", code, body)
			}
			if code, _ := c.do("GET", "/missing", "", nil); code != 404 {
				t.Errorf("missing key: %d", code)
			}

			// Python's set_bulk: several pairs, spaces as "+".
			if code, _ := c.do("POST", "", "application/x-www-form-urlencoded", strings.NewReader(url.Values{"x y": {"1"}, "z": {`"two"`}}.Encode())); code != 204 {
				t.Fatalf("bulk set: %d", code)
			}
			if _, body := c.do("GET", "/x%20y", "", nil); body != "1" {
				t.Errorf("bulk value: %q", body)
			}

			// List, encoded: each key percent-encoded, one per line.
			_, body := c.do("GET", "?encode=true&prefix="+encodeURIComponent("a/"), "", nil)
			var keys []string
			for _, l := range strings.Split(body, "\n") {
				k, err := url.PathUnescape(l)
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, k)
			}
			if !slices.Equal(keys, []string{"a//b", "a/b"}) {
				t.Errorf("list a/: %q", keys)
			}
			if _, body := c.do("GET", "?encode=true&prefix=nothing", "", nil); body != "" {
				t.Errorf("empty list: %q", body)
			}
			_, all := c.do("GET", "?encode=true", "", nil)
			if n := len(strings.Split(all, "\n")); n != len(odd)+2 {
				t.Errorf("list all: %d keys: %q", n, all)
			}
			if !strings.Contains(all, "new%0Aline") {
				t.Errorf("a newline in a key is not encoded: %q", all)
			}

			// Delete by path (Node) and by multipart body (Python).
			if code, _ := c.do("DELETE", "/"+encodeURIComponent("a/b"), "", nil); code != 204 {
				t.Errorf("delete by path: %d", code)
			}
			var mp bytes.Buffer
			w := multipart.NewWriter(&mp)
			_ = w.WriteField("key", "/lead")
			w.Close()
			if code, _ := c.do("DELETE", "", w.FormDataContentType(), &mp); code != 204 {
				t.Errorf("delete by multipart: %d", code)
			}
			if code, _ := c.do("DELETE", "/"+encodeURIComponent("a/b"), "", nil); code != 404 {
				t.Errorf("delete again: %d", code)
			}

			// Another project's token reaches another store; a forged or
			// expired one reaches nothing.
			other := client{t: t, base: srv.URL + Prefix + s.Token(Scope{ProjectID: "p2", Env: "dev"}, time.Hour)}
			if code, _ := other.do("GET", "/plain", "", nil); code != 404 {
				t.Errorf("p2 reads p1's key: %d", code)
			}
			prod := client{t: t, base: srv.URL + Prefix + s.Token(Scope{ProjectID: "p1", Env: "prod"}, time.Hour)}
			if code, _ := prod.do("GET", "/plain", "", nil); code != 404 {
				t.Errorf("prod reads dev's key: %d", code)
			}
			tok := s.Token(Scope{ProjectID: "p1", Env: "dev"}, time.Hour)
			forged := client{t: t, base: srv.URL + Prefix + tok[:len(tok)-2] + "xx"}
			if code, _ := forged.do("GET", "/plain", "", nil); code != 401 {
				t.Errorf("forged token: %d", code)
			}
			expired := client{t: t, base: srv.URL + Prefix + s.Token(Scope{ProjectID: "p1", Env: "dev"}, -time.Second)}
			if code, _ := expired.do("GET", "/plain", "", nil); code != 401 {
				t.Errorf("expired token: %d", code)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	s, srv := newStore(t, testdb.Engines(t)[0])
	c := client{t: t, base: srv.URL + Prefix + s.Token(Scope{ProjectID: "p1", Env: "dev"}, time.Hour)}
	if code, body := c.do("POST", "", "application/x-www-form-urlencoded", strings.NewReader(strings.Repeat("k", MaxKeyBytes+1)+"=1")); code != 413 || !strings.Contains(body, "kv_key_too_long") {
		t.Errorf("long key: %d %s", code, body)
	}
	big := strings.Repeat("v", MaxValueBytes+1)
	if code, body := c.do("POST", "", "application/x-www-form-urlencoded", strings.NewReader("k="+big)); code != 413 || !strings.Contains(body, "kv_value_too_large") {
		t.Errorf("big value: %d %.200s", code, body)
	}
	// Ten values of 5 MiB fill the 50 MiB store; the eleventh is refused
	// and nothing of its request is kept.
	value := strings.Repeat("v", MaxValueBytes-10)
	for i := range 10 {
		if code := c.setNode("big"+string(rune('a'+i)), value); code != 204 {
			t.Fatalf("value %d: %d", i, code)
		}
	}
	if code, body := c.do("POST", "", "application/x-www-form-urlencoded", strings.NewReader("small=1&bigk="+value)); code != 413 || !strings.Contains(body, "kv_full") {
		t.Errorf("over the total: %d %.200s", code, body)
	}
	if code, _ := c.do("GET", "/small", "", nil); code != 404 {
		t.Error("a refused set kept part of its pairs")
	}
	if code, body := c.do("POST", "", "application/x-www-form-urlencoded", strings.NewReader("a=1;b=2")); code != 400 {
		t.Errorf("a raw semicolon: %d %s", code, body)
	}
}

func FuzzKeyPath(f *testing.F) {
	for _, k := range []string{"a", "a/b", "//x", "%", "sp ace", "+", "\n", "ü"} {
		f.Add(k)
	}
	db := testdb.Open(f, testdb.Engines(f)[0])
	ctx := context.Background()
	now := store.Now()
	_, _ = db.Exec(ctx, `INSERT INTO users (id, username, email, password_hash, created_at, updated_at) VALUES ('u1', 'ada', 'ada@example.com', 'x', ?, ?)`, now, now)
	_, _ = db.Exec(ctx, `INSERT INTO projects (id, owner_id, slug, name, created_at, updated_at) VALUES ('p1', 'u1', 'p1', 'P', ?, ?)`, now, now)
	s := New(db, bytes.Repeat([]byte{7}, 32))
	srv := httptest.NewServer(s)
	defer srv.Close()
	base := srv.URL + Prefix + s.Token(Scope{ProjectID: "p1", Env: "dev"}, time.Hour)
	f.Fuzz(func(t *testing.T, key string) {
		if checkKey(key) != nil || !utf8Valid(key) {
			return
		}
		c := client{t: t, base: base}
		if code := c.setNode(key, "v:"+key); code != 204 {
			t.Fatalf("set %q: %d", key, code)
		}
		if code, body := c.do("GET", "/"+encodeURIComponent(key), "", nil); code != 200 || body != "v:"+key {
			t.Fatalf("get %q: %d %q", key, code, body)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
