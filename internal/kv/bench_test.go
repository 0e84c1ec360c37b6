package kv

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"ecode/internal/store/testdb"
)

// BenchmarkSetGet is one set and one get of a small value: in the store
// alone, and through the wire protocol's handler over loopback HTTP.
func BenchmarkSetGet(b *testing.B) {
	s, srv := newStore(b, testdb.Engines(b)[0])
	ctx := context.Background()
	sc := Scope{ProjectID: "p1", Env: "dev"}
	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			if err := s.Set(ctx, sc, map[string]string{"k": `{"i":1}`}); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Get(ctx, sc, "k"); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A store near its key limit: the limits are checked on every set.
	many := make(map[string]string, 4000)
	for i := range 4000 {
		many[fmt.Sprintf("key%d", i)] = strings.Repeat("v", 100)
	}
	if err := s.Set(ctx, Scope{ProjectID: "p2", Env: "dev"}, many); err != nil {
		b.Fatal(err)
	}
	b.Run("store-4000-keys", func(b *testing.B) {
		for b.Loop() {
			if err := s.Set(ctx, Scope{ProjectID: "p2", Env: "dev"}, map[string]string{"k": `{"i":1}`}); err != nil {
				b.Fatal(err)
			}
		}
	})
	base := srv.URL + Prefix + s.Token(sc, time.Hour)
	b.Run("http", func(b *testing.B) {
		for b.Loop() {
			res, err := http.Post(base, "application/x-www-form-urlencoded", strings.NewReader("k=%7B%22i%22%3A1%7D"))
			if err != nil || res.StatusCode != 204 {
				b.Fatal(err, res)
			}
			res.Body.Close()
			if res, err = http.Get(base + "/k"); err != nil || res.StatusCode != 200 {
				b.Fatal(err, res)
			}
			res.Body.Close()
		}
	})
}
