package objstore

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecode/internal/billing"
	"ecode/internal/billing/billingtest"
	"ecode/internal/store/testdb"
)

// TestMeterStorage: each project's objects, dev and prod together, are
// recorded as byte-seconds of the hour, under a key that names the hour:
// measuring again within it (a restart) repeats the key, not the charge.
func TestMeterStorage(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			st, _ := newStore(t, e, 1<<20)
			rec := &billingtest.Log{}
			st.opts.Meter = rec
			ctx := context.Background()
			for _, o := range []struct {
				sc   Scope
				key  string
				size int
			}{{Scope{"p1", "dev"}, "a", 100}, {Scope{"p1", "prod"}, "b", 50}, {Scope{"p2", "dev"}, "c", 7}} {
				if _, err := st.Put(ctx, o.sc, DefaultBucket, o.key, strings.NewReader(strings.Repeat("x", o.size)), "", nil); err != nil {
					t.Fatal(err)
				}
			}
			hour := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
			for _, at := range []time.Time{hour.Add(5 * time.Minute), hour.Add(59 * time.Minute)} {
				if err := st.MeterStorage(ctx, at); err != nil {
					t.Fatal(err)
				}
			}
			want := map[string]int64{"p1": 150 * 3600, "p2": 7 * 3600}
			if len(rec.All()) != 4 {
				t.Fatalf("recorded %+v, want each project twice", rec.All())
			}
			for _, u := range rec.All() {
				if u.Meter != billing.MeterObjects || u.Quantity != want[u.ProjectID] || !u.At.Equal(hour) ||
					u.Key != billing.MeterObjects+":"+u.ProjectID+":"+strconv.FormatInt(hour.Unix(), 10) {
					t.Fatalf("usage %+v", u)
				}
			}
		})
	}
}
