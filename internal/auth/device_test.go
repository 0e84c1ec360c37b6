package auth

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"ecode/internal/store/testdb"
)

func TestKnownDevice(t *testing.T) {
	db := testdb.Open(t, testdb.Engines(t)[0])
	s := NewService(db, nil, Options{DeviceKey: []byte("0123456789abcdef0123456789abcdef")})
	rec := httptest.NewRecorder()
	s.rememberDevice(rec, &User{ID: "01alice"})
	cookie := rec.Result().Cookies()[0].Value
	with := func(v string) *http.Request {
		r := httptest.NewRequest("POST", "/api/auth/login", nil)
		r.AddCookie(&http.Cookie{Name: deviceCookie, Value: v})
		return r
	}
	if !s.knownDevice(with(cookie), "01alice") {
		t.Fatal("the cookie just given is not known")
	}
	parts := strings.Split(cookie, ".")
	old := time.Now().Add(-deviceLifetime - time.Hour).Unix()
	for name, v := range map[string]string{
		"another account":   cookie,
		"renamed account":   strings.Replace(cookie, "01alice", "01mallory", 1),
		"changed date":      parts[0] + "." + parts[1] + ".1." + parts[3],
		"changed signature": cookie[:len(cookie)-2] + "xx",
		"expired":           "v1.01alice." + strconv.FormatInt(old, 10) + "." + s.deviceMAC("01alice", old),
		"another server key": func() string {
			r := httptest.NewRecorder()
			NewService(db, nil, Options{}).rememberDevice(r, &User{ID: "01alice"})
			return r.Result().Cookies()[0].Value
		}(),
		"empty":   "",
		"garbage": "v1...",
	} {
		id := "01alice"
		if name == "another account" {
			id = "01bob"
		}
		if s.knownDevice(with(v), id) {
			t.Errorf("%s: known", name)
		}
	}
	if s.knownDevice(httptest.NewRequest("POST", "/", nil), "01alice") {
		t.Error("no cookie: known")
	}
}

func TestSlowdown(t *testing.T) {
	for strikes, want := range map[float64]time.Duration{
		0: 0, 4.9: 0, 5: firstSlowdown, 6.5: 2 * firstSlowdown, 9: 16 * firstSlowdown, 10: 32 * firstSlowdown, 11: maxSlowdown, 64: maxSlowdown,
	} {
		if got := slowdown(strikes); got != want {
			t.Errorf("slowdown(%v) = %v, want %v", strikes, got, want)
		}
	}
}

func TestLimiterRetryAfter(t *testing.T) {
	l := newLimiter(6, 2) // one token every 10 s
	if l.take("k") != 0 || l.take("k") != 0 {
		t.Fatal("burst refused")
	}
	wait := l.take("k")
	if wait <= 9*time.Second || wait > 10*time.Second {
		t.Fatalf("wait = %v, want about 10s", wait)
	}
	if got := rateLimited(wait).(*limited).RetryAfter(); got != "10" {
		t.Fatalf("Retry-After = %q", got)
	}
	if l.spent("k") < 1.9 || l.spent("other") != 0 {
		t.Fatalf("spent = %v, %v", l.spent("k"), l.spent("other"))
	}
}
