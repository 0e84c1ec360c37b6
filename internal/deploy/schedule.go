package deploy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"ecode/internal/errs"
)

// schedule is a scheduled deployment's schedule: the cron expression it
// runs on, in its time zone, and the same in words.
type schedule struct {
	Cron     string // five fields, or an @every/@daily descriptor
	Sentence string
	Loc      *time.Location
	next     cron.Schedule
}

// Next is the first time after t the schedule fires.
func (s *schedule) Next(t time.Time) time.Time { return s.next.Next(t.In(s.Loc)) }

var (
	weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	// "every 15 minutes", "every minute", "every 2 hours", "every hour"
	everyUnit = regexp.MustCompile(`^every\s+(?:(\d+)\s+)?(minute|hour)s?$`)
	// "every day at 17:30", "every weekday at 9:00", "every monday at 8"
	everyAt = regexp.MustCompile(`^every\s+(day|weekday|weekend|[a-z]+)\s+at\s+(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$`)
)

// parseSchedule reads spec, a five-field cron expression (which may start
// with CRON_TZ=Zone) or a sentence such as "every weekday at 9:00", in the
// time zone tz (empty: UTC). A schedule that would ever run twice within
// floor is refused. The error names what is wrong.
func parseSchedule(spec, tz string, floor time.Duration) (*schedule, error) {
	bad := func(format string, a ...any) error {
		return errs.Invalid("invalid_deployment", "[deployment] schedule: %s", fmt.Sprintf(format, a...))
	}
	spec = strings.Join(strings.Fields(spec), " ")
	if rest, ok := strings.CutPrefix(spec, "CRON_TZ="); ok {
		zone, expr, _ := strings.Cut(rest, " ")
		if tz != "" && tz != zone {
			return nil, bad("CRON_TZ=%s and timeZone %q disagree; give the zone once", zone, tz)
		}
		tz, spec = zone, expr
	}
	loc := time.UTC
	if tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
			return nil, errs.Invalid("invalid_deployment", "[deployment] timeZone: %q is not a time zone such as Europe/Paris", tz)
		}
		loc = l
	}
	if spec == "" {
		return nil, bad("a scheduled deployment needs a schedule")
	}
	expr, sentence := spec, ""
	if lower := strings.ToLower(spec); strings.HasPrefix(lower, "every ") {
		var err error
		if expr, err = sentenceToCron(lower); err != nil {
			return nil, bad("%v", err)
		}
	}
	next, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, bad("%q is neither five cron fields (minute hour day month weekday) nor a sentence such as \"every weekday at 9:00\": %v", spec, err)
	}
	if gap, ok := shortestGap(next, floor); !ok {
		return nil, bad("%q runs as often as every %s; this server runs a schedule at most every %s", spec, gap, floor)
	}
	if sentence == "" {
		sentence = describeCron(expr)
	}
	return &schedule{Cron: expr, Sentence: sentence, Loc: loc, next: next}, nil
}

// sentenceToCron turns a plain-language schedule into cron.
func sentenceToCron(s string) (string, error) {
	if m := everyUnit.FindStringSubmatch(s); m != nil {
		n := 1
		if m[1] != "" {
			n, _ = strconv.Atoi(m[1])
		}
		limit := map[string]int{"minute": 59, "hour": 23}[m[2]]
		switch {
		case n < 1 || n > limit:
			return "", fmt.Errorf("every %d %ss: give 1 to %d", n, m[2], limit)
		case m[2] == "minute" && n == 1:
			return "* * * * *", nil
		case m[2] == "minute":
			return fmt.Sprintf("*/%d * * * *", n), nil
		case n == 1:
			return "0 * * * *", nil
		default:
			return fmt.Sprintf("0 */%d * * *", n), nil
		}
	}
	m := everyAt.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("%q is not a schedule this understands; write e.g. \"every weekday at 9:00\", \"every 15 minutes\", \"every monday at 8:00\" or five cron fields", s)
	}
	hour, _ := strconv.Atoi(m[2])
	minute := 0
	if m[3] != "" {
		minute, _ = strconv.Atoi(m[3])
	}
	switch m[4] {
	case "am", "pm":
		if hour < 1 || hour > 12 {
			return "", fmt.Errorf("%d%s is not an hour", hour, m[4])
		}
		hour %= 12
		if m[4] == "pm" {
			hour += 12
		}
	}
	if hour > 23 || minute > 59 {
		return "", fmt.Errorf("%s:%s is not a time of day", m[2], m[3])
	}
	days := "*"
	switch day := m[1]; day {
	case "day":
	case "weekday":
		days = "1-5"
	case "weekend":
		days = "0,6"
	default:
		i := indexOf(weekdays, strings.TrimSuffix(day, "s"))
		if i < 0 {
			return "", fmt.Errorf("%q is not a day; use day, weekday, weekend or a day of the week", day)
		}
		days = strconv.Itoa(i)
	}
	return fmt.Sprintf("%d %d * * %s", minute, hour, days), nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// describeCron says expr in words where it has one of the common shapes,
// else as the cron expression it is.
func describeCron(expr string) string {
	if d, ok := strings.CutPrefix(expr, "@every "); ok {
		return "Every " + d
	}
	if d, ok := map[string]string{"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
		"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}[expr]; ok {
		expr = d
	}
	f := strings.Fields(expr)
	if len(f) != 5 {
		return "On the schedule " + expr
	}
	minute, hour, dom, month, dow := f[0], f[1], f[2], f[3], f[4]
	if dom != "*" || month != "*" {
		return "On the cron schedule " + expr
	}
	if hour == "*" && dow == "*" {
		switch {
		case minute == "*":
			return "Every minute"
		case strings.HasPrefix(minute, "*/"):
			return "Every " + minute[2:] + " minutes"
		}
		if minute == "0" {
			return "Every hour"
		}
		if n, err := strconv.Atoi(minute); err == nil {
			return fmt.Sprintf("Every hour at %d minutes past", n)
		}
	}
	if strings.HasPrefix(hour, "*/") && minute == "0" && dow == "*" {
		return "Every " + hour[2:] + " hours"
	}
	h, errH := strconv.Atoi(hour)
	m, errM := strconv.Atoi(minute)
	if errH != nil || errM != nil {
		return "On the cron schedule " + expr
	}
	at := fmt.Sprintf("at %d:%02d", h, m)
	switch dow {
	case "*":
		return "Every day " + at
	case "1-5":
		return "Every weekday " + at
	case "0,6", "6,0":
		return "Every weekend day " + at
	}
	if d, err := strconv.Atoi(dow); err == nil && d >= 0 && d <= 7 {
		name := weekdays[d%7]
		return "Every " + strings.ToUpper(name[:1]) + name[1:] + " " + at
	}
	return "On the cron schedule " + expr
}

// shortestGap looks for two runs of next closer than floor and reports
// the gap it found. Cron's unit is the minute, so below a minute only
// @every can be too frequent. Runs are counted in UTC: a change of clocks
// is not a schedule asking for more. A schedule of every day of every
// month repeats each week, so a week and a day of runs tell; one that
// picks days of the month or months, a year and a bit (month ends, leap
// days).
func shortestGap(next cron.Schedule, floor time.Duration) (time.Duration, bool) {
	if every, ok := next.(cron.ConstantDelaySchedule); ok {
		return every.Delay, every.Delay >= floor
	}
	if floor <= time.Minute {
		return 0, true
	}
	const everyDay, everyMonth = 1<<32 - 2, 1<<13 - 2 // bits 1-31, 1-12
	t := next.Next(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	end := t.AddDate(1, 0, 2)
	if spec, ok := next.(*cron.SpecSchedule); ok && spec.Dom&everyDay == everyDay && spec.Month&everyMonth == everyMonth {
		end = t.AddDate(0, 0, 8)
	}
	for t.Before(end) && !t.IsZero() {
		n := next.Next(t)
		if !n.IsZero() && n.Sub(t) < floor {
			return n.Sub(t), false
		}
		t = n
	}
	return 0, true
}
