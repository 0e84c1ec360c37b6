package deploy

import (
	"strings"
	"testing"
	"time"
)

func TestParseSchedule(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec, tz, cron, sentence string
		after, next              time.Time // next fire after `after`
	}{
		{"every weekday at 9:00", "", "0 9 * * 1-5", "Every weekday at 9:00",
			time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}, // Friday → Monday
		{"Every 15 minutes", "", "*/15 * * * *", "Every 15 minutes",
			time.Date(2026, 1, 1, 10, 7, 0, 0, time.UTC), time.Date(2026, 1, 1, 10, 15, 0, 0, time.UTC)},
		{"every day at 17:30", "Europe/Paris", "30 17 * * *", "Every day at 17:30",
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 17, 30, 0, 0, paris)},
		{"every monday at 8:00", "", "0 8 * * 1", "Every Monday at 8:00",
			time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)},
		{"every hour", "", "0 * * * *", "Every hour",
			time.Date(2026, 1, 1, 10, 7, 0, 0, time.UTC), time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC)},
		{"every day at 5pm", "", "0 17 * * *", "Every day at 17:00",
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 17, 0, 0, 0, time.UTC)},
		{"CRON_TZ=Europe/Paris 30 6 * * 1-5", "", "30 6 * * 1-5", "Every weekday at 6:30",
			time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), time.Date(2026, 12, 4, 6, 30, 0, 0, paris)},
		{"5 4 1 * *", "", "5 4 1 * *", "On the cron schedule 5 4 1 * *",
			time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 4, 5, 0, 0, time.UTC)},
		{"@every 2s", "", "@every 2s", "Every 2s",
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 2, 0, time.UTC)},
	} {
		s, err := parseSchedule(c.spec, c.tz, time.Second)
		if err != nil {
			t.Errorf("%q: %v", c.spec, err)
			continue
		}
		if s.Cron != c.cron || s.Sentence != c.sentence {
			t.Errorf("%q: cron %q sentence %q, want %q %q", c.spec, s.Cron, s.Sentence, c.cron, c.sentence)
		}
		if next := s.Next(c.after); !next.Equal(c.next) {
			t.Errorf("%q: next after %v is %v, want %v", c.spec, c.after, next, c.next)
		}
	}
	for _, c := range []struct{ spec, tz, names string }{
		{"every fortnight at 9:00", "", "fortnight"},
		{"every day at 25:00", "", "25:00"},
		{"every 90 minutes", "", "1 to 59"},
		{"61 * * * *", "", "five cron fields"},
		{"whenever", "", "neither"},
		{"0 9 * * *", "Mars/Olympus", "timeZone"},
		{"CRON_TZ=UTC 0 9 * * *", "Europe/Paris", "disagree"},
		{"", "", "needs a schedule"},
	} {
		_, err := parseSchedule(c.spec, c.tz, time.Second)
		if err == nil || !strings.Contains(err.Error(), c.names) {
			t.Errorf("%q in %q: error %v, want one naming %q", c.spec, c.tz, err, c.names)
		}
	}
}

// A schedule that ever runs twice within the floor is refused, wherever
// in the year its two closest runs fall.
func TestScheduleFloorGap(t *testing.T) {
	for _, c := range []struct {
		spec  string
		floor time.Duration
		gap   string // "" when allowed
	}{
		{"@every 30s", time.Minute, "30s"},
		{"@every 1m", time.Minute, ""},
		{"* * * * *", time.Minute, ""},
		{"*/2 * * * *", 5 * time.Minute, "2m0s"},
		{"every 15 minutes", 15 * time.Minute, ""},
		{"0,30 * * * *", time.Hour, "30m0s"},
		{"0 */2 * * *", 2 * time.Hour, ""},
		{"every weekday at 9:00", 24 * time.Hour, ""},
		// 23:00 on the 31st, then 0:00 on the 1st: only across months.
		{"0 0,23 1,31 * *", 2 * time.Hour, "1h0m0s"},
	} {
		_, err := parseSchedule(c.spec, "Europe/Paris", c.floor)
		switch {
		case c.gap == "" && err != nil:
			t.Errorf("%q at floor %s: %v", c.spec, c.floor, err)
		case c.gap != "" && (err == nil || !strings.Contains(err.Error(), "every "+c.gap) || !strings.Contains(err.Error(), c.floor.String())):
			t.Errorf("%q at floor %s: error %v, want one naming %s and the floor", c.spec, c.floor, err, c.gap)
		}
	}
}
