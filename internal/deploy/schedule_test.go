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
		s, err := parseSchedule(c.spec, c.tz)
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
		_, err := parseSchedule(c.spec, c.tz)
		if err == nil || !strings.Contains(err.Error(), c.names) {
			t.Errorf("%q in %q: error %v, want one naming %q", c.spec, c.tz, err, c.names)
		}
	}
}
