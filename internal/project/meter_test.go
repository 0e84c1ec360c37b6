package project_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"ecode/internal/billing"
	"ecode/internal/billing/billingtest"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
)

// TestMeterFiles: each project's files are recorded as byte-seconds of
// the hour, under a key that names the hour.
func TestMeterFiles(t *testing.T) {
	s := testserver.New(t, testdb.Engines(t)[0])
	amy := s.SignUp(t, "amy")
	p := amy.CreateProject(t, "Files")
	amy.Put(t, "/api/projects/"+p.ID+"/files/big.txt", strings.Repeat("x", 10000)).WantStatus(t, 204)
	rec := &billingtest.Log{}
	at := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)
	if err := s.App.Projects.MeterFiles(t.Context(), rec, at); err != nil {
		t.Fatal(err)
	}
	if len(rec.All()) != 1 {
		t.Fatalf("recorded %+v", rec.All())
	}
	u := rec.All()[0]
	if u.ProjectID != p.ID || u.Meter != billing.MeterFiles || u.Quantity < 10000*3600 || u.Quantity%3600 != 0 ||
		u.Key != billing.MeterFiles+":"+p.ID+":"+strconv.FormatInt(at.Truncate(time.Hour).Unix(), 10) {
		t.Fatalf("usage %+v", u)
	}
}
