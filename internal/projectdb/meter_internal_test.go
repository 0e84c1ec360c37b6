package projectdb

import (
	"context"
	"strconv"
	"testing"
	"time"

	"ecode/internal/billing"
	"ecode/internal/billing/billingtest"
)

// TestMeterStorage: a project's database, as last measured, and its
// backups are recorded as byte-seconds of the hour, under keys that name
// the hour.
func TestMeterStorage(t *testing.T) {
	s, pid := backupService(t, 1<<30)
	rec := &billingtest.Log{}
	s.opts.Meter = rec
	ctx := context.Background()
	if _, _, err := s.ensure(ctx, pid, Dev, ""); err != nil {
		t.Fatal(err)
	}
	mustExecAs(t, s, pid, Dev, "CREATE TABLE items (name text); INSERT INTO items SELECT 'item ' || n FROM generate_series(1, 1000) n")
	s.checkSizes(ctx)
	s.backUpDaily(ctx)
	r, err := getRow(ctx, s.db, pid, Dev)
	if err != nil {
		t.Fatal(err)
	}
	var backups int64
	if err := s.db.Get(ctx, &backups, `SELECT SUM(size_bytes) FROM database_backups WHERE project_id = ? AND status = ?`, pid, statusDone); err != nil || backups <= 0 {
		t.Fatalf("backups hold %d bytes, %v", backups, err)
	}
	at := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)
	if err := s.MeterStorage(ctx, at); err != nil {
		t.Fatal(err)
	}
	hour := strconv.FormatInt(at.Truncate(time.Hour).Unix(), 10)
	want := map[string]int64{billing.MeterDatabase: r.SizeBytes * 3600, billing.MeterBackups: backups * 3600}
	if len(rec.All()) != 2 {
		t.Fatalf("recorded %+v", rec.All())
	}
	for _, u := range rec.All() {
		if u.ProjectID != pid || u.Quantity != want[u.Meter] || u.Quantity <= 0 || u.Key != u.Meter+":"+pid+":"+hour {
			t.Fatalf("usage %+v, want %d", u, want[u.Meter])
		}
	}
}
