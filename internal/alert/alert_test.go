package alert_test

import (
	"bytes"
	"context"
	"ecode/internal/access"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"ecode/internal/alert"
	"ecode/internal/httpx"
	"ecode/internal/mail"
	"ecode/internal/mail/mailtest"
	"ecode/internal/notify"
	"ecode/internal/seal"
	"ecode/internal/telemetry"
	"ecode/internal/testserver"
)

// source is telemetry as the test says it is: a window per span length,
// and series from at (zero windows without it).
type source struct {
	mu      sync.Mutex
	windows map[time.Duration]telemetry.Window
	at      func(t time.Time) telemetry.Window
}

func (s *source) set(span time.Duration, w telemetry.Window) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windows[span] = w
}

func (s *source) Window(_ context.Context, _ string, from, to time.Time) (telemetry.Window, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.windows[to.Sub(from)], nil
}

func (s *source) Series(_ context.Context, _ string, from, to time.Time, step time.Duration) ([]telemetry.Point, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []telemetry.Point
	for t := from; t.Before(to); t = t.Add(step) {
		p := telemetry.Point{T: t}
		if s.at != nil {
			p.Window = s.at(t)
		}
		out = append(out, p)
	}
	return out, nil
}

// env is the real platform with the alert and notification routes in
// front of it, over a fake telemetry source.
type env struct {
	*testserver.Server
	svc  *alert.Service
	src  *source
	mail *mailtest.Server
}

func newEnv(t *testing.T, s *testserver.Server, withMail bool, src alert.Source) *env {
	t.Helper()
	keys, err := seal.NewKeyring(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{src: &source{windows: map[time.Duration]telemetry.Window{}}}
	if src == nil {
		src = e.src
	}
	opts := alert.Options{Keys: keys, WebhookAddr: func(netip.Addr) bool { return true }, WebhookBackoff: 10 * time.Millisecond}
	if withMail {
		e.mail = mailtest.New(t, "", "")
		if opts.Mail, err = mail.New(mail.Config{URL: e.mail.URL(), From: "alerts@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	n := notify.New(s.App.DB)
	e.svc = alert.New(s.App.DB, s.App.Projects, src, n, access.NewResolver(s.App.DB), opts)
	rt := httpx.NewRouter()
	e.svc.Routes(rt)
	n.Routes(rt)
	mux := http.NewServeMux()
	for _, p := range rt.Routes() {
		mux.Handle(p, s.App.Auth.Middleware(rt))
	}
	mux.Handle("/", s.App.Handler())
	front := httptest.NewServer(mux)
	t.Cleanup(front.Close)
	e.Server = &testserver.Server{Server: front, App: s.App}
	return e
}

func (e *env) evaluate(t *testing.T) {
	t.Helper()
	if err := e.svc.Evaluate(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// receiver verifies each delivery's signature and keeps the events.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	events []map[string]any
	bad    int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		hook, err := standardwebhooks.NewWebhook(r.secret)
		if err != nil || hook.Verify(body, req.Header) != nil {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		_ = json.Unmarshal(body, &ev)
		r.events = append(r.events, ev)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		out = append(out, e["type"].(string))
	}
	slices.Sort(out)
	return out
}

// await waits until the events received are want, in any order
// (deliveries run concurrently).
func (r *receiver) await(t *testing.T, want ...string) {
	t.Helper()
	slices.Sort(want)
	deadline := time.Now().Add(20 * time.Second)
	for got := r.types(); !slices.Equal(got, want); got = r.types() {
		if time.Now().After(deadline) {
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("webhook events %v (%d unverified), want %v", r.events, r.bad, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type rule struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	Kind          string  `json:"kind"`
	Metric        string  `json:"metric"`
	Op            string  `json:"op"`
	Threshold     float64 `json:"threshold"`
	WindowMinutes int     `json:"windowMinutes"`
	Enabled       bool    `json:"enabled"`
	Channels      struct {
		InApp      bool     `json:"inApp"`
		WebhookURL string   `json:"webhookUrl"`
		Emails     []string `json:"emails"`
	} `json:"channels"`
}

type alertOut struct {
	ID            string   `json:"id"`
	RuleID        string   `json:"ruleId"`
	Status        string   `json:"status"`
	Value         float64  `json:"value"`
	ResolvedAt    *int64   `json:"resolvedAt"`
	ResolvedBy    *string  `json:"resolvedBy"`
	SilencedUntil *int64   `json:"silencedUntil"`
	Threshold     *float64 `json:"threshold"`
	Message       string   `json:"message"`
}

func alerts(t *testing.T, c *testserver.Client, projectID, status string) []alertOut {
	t.Helper()
	var out struct{ Alerts []alertOut }
	c.Get(t, "/api/projects/"+projectID+"/alerts?status="+status).WantStatus(t, http.StatusOK).Decode(t, &out)
	return out.Alerts
}

type notes struct {
	Notifications []struct {
		ID, Kind, Title, Body, Link string
		Read                        bool
	}
	Unread int
}

func inbox(t *testing.T, c *testserver.Client) notes {
	t.Helper()
	var n notes
	c.Get(t, "/api/notifications").WantStatus(t, http.StatusOK).Decode(t, &n)
	return n
}

func TestRules(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		e := newEnv(t, s, false, nil)
		ann := e.SignUp(t, "ann")
		p := ann.CreateProject(t, "Shop")
		base := "/api/projects/" + p.ID + "/alerts/rules"

		for _, c := range []struct {
			body map[string]any
			code string
		}{
			{map[string]any{"kind": "threshold", "metric": "error_rate", "threshold": 0.1}, "invalid_rule"},                                    // no name
			{map[string]any{"name": "x", "kind": "threshold", "metric": "cpu"}, "invalid_rule"},                                                // metric
			{map[string]any{"name": "x", "kind": "sometimes", "metric": "requests"}, "invalid_rule"},                                           // kind
			{map[string]any{"name": "x", "kind": "threshold", "metric": "requests", "op": ">="}, "invalid_rule"},                               // op
			{map[string]any{"name": "x", "kind": "threshold", "metric": "requests", "windowMinutes": 0}, "invalid_rule"},                       // window
			{map[string]any{"name": "x", "kind": "burn_rate", "metric": "p95_ms"}, "invalid_rule"},                                             // burn rate of latency
			{map[string]any{"name": "x", "kind": "burn_rate", "metric": "error_rate", "slo": 1}, "invalid_rule"},                               // slo
			{map[string]any{"name": "x", "kind": "anomaly", "metric": "requests", "channels": map[string]any{"inApp": false}}, "invalid_rule"}, // no channel
			{map[string]any{"name": "x", "kind": "anomaly", "metric": "requests", "channels": map[string]any{"webhookUrl": "ftp://x"}}, "invalid_webhook_url"},
			{map[string]any{"name": "x", "kind": "anomaly", "metric": "requests", "channels": map[string]any{"emails": []string{"a@b.c"}}}, "email_unavailable"},
			{map[string]any{"name": "x", "kind": "anomaly", "metric": "requests", "bogus": 1}, "unknown_field"},
		} {
			ann.Post(t, base, c.body).WantError(t, http.StatusBadRequest, c.code)
		}
		var created struct{ Rule rule }
		ann.Post(t, base, map[string]any{"name": " Errors ", "kind": "threshold", "metric": "error_rate", "threshold": 0.05}).
			WantStatus(t, http.StatusCreated).Decode(t, &created)
		r := created.Rule
		if r.Name != "Errors" || r.Op != ">" || r.WindowMinutes != 5 || !r.Enabled || !r.Channels.InApp || r.Channels.Emails == nil {
			t.Fatalf("created %+v", r)
		}
		var patched struct{ Rule rule }
		ann.Patch(t, base+"/"+r.ID, map[string]any{"op": "<", "channels": map[string]any{"inApp": true, "webhookUrl": "https://hooks.example.com/a"}}).
			WantStatus(t, http.StatusOK).Decode(t, &patched)
		if patched.Rule.Op != "<" || patched.Rule.Threshold != 0.05 || patched.Rule.Channels.WebhookURL != "https://hooks.example.com/a" {
			t.Fatalf("patched %+v", patched.Rule)
		}
		ann.Patch(t, base+"/"+r.ID, map[string]any{"kind": "burn_rate", "metric": "requests"}).WantError(t, http.StatusBadRequest, "invalid_rule")

		vic := e.SignUp(t, "vic")
		ann.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "vic", "role": "viewer"}).WantStatus(t, http.StatusCreated)
		var list struct{ Rules []rule }
		vic.Get(t, base).WantStatus(t, http.StatusOK).Decode(t, &list)
		if len(list.Rules) != 1 || list.Rules[0].Op != "<" || list.Rules[0].Channels.WebhookURL != "https://hooks.example.com/…" {
			t.Fatalf("rules as a viewer sees them %+v", list.Rules)
		}
		vic.Post(t, base, map[string]any{"name": "v", "kind": "anomaly", "metric": "requests"}).WantError(t, http.StatusForbidden, "forbidden")
		vic.Get(t, "/api/projects/"+p.ID+"/alerts/webhook-secret").WantError(t, http.StatusForbidden, "forbidden")
		e.SignUp(t, "sly").Get(t, base).WantError(t, http.StatusNotFound, "not_found")
		e.Anonymous().Get(t, "/api/notifications").WantError(t, http.StatusUnauthorized, "unauthenticated")

		ann.Delete(t, base+"/"+r.ID).WantStatus(t, http.StatusNoContent)
		ann.Delete(t, base+"/"+r.ID).WantError(t, http.StatusNotFound, "rule_not_found")

		// A deleted project's rules go with it.
		ann.Post(t, base, map[string]any{"name": "Left", "kind": "anomaly", "metric": "requests"}).WantStatus(t, http.StatusCreated)
		if err := e.svc.DropProject(t.Context(), p.ID); err != nil {
			t.Fatal(err)
		}
		ann.Get(t, base).WantStatus(t, http.StatusOK).Decode(t, &list)
		if len(list.Rules) != 0 {
			t.Fatalf("rules after dropping the project %+v", list.Rules)
		}
	})
}

// TestAlertLifecycle: a threshold rule fires to the app, a signed webhook
// and email; holds without repeating itself (also across a restart);
// resolves by itself; stays quiet while silenced; resolves by hand.
func TestAlertLifecycle(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		e := newEnv(t, s, true, nil)
		rcv := newReceiver(t)
		ann := e.SignUp(t, "ann")
		bob := e.SignUp(t, "bob")
		vic := e.SignUp(t, "vic")
		p := ann.CreateProject(t, "Shop")
		ann.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "bob", "role": "editor"}).WantStatus(t, http.StatusCreated)
		ann.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "vic", "role": "viewer"}).WantStatus(t, http.StatusCreated)
		var sec struct{ Secret string }
		ann.Get(t, "/api/projects/"+p.ID+"/alerts/webhook-secret").WantStatus(t, http.StatusOK).Decode(t, &sec)
		if !strings.HasPrefix(sec.Secret, "whsec_") {
			t.Fatalf("secret %q", sec.Secret)
		}
		rcv.mu.Lock()
		rcv.secret = sec.Secret
		rcv.mu.Unlock()

		var created struct{ Rule rule }
		ann.Post(t, "/api/projects/"+p.ID+"/alerts/rules", map[string]any{"name": "Too many errors", "kind": "threshold",
			"metric": "error_rate", "threshold": 0.1, "windowMinutes": 10,
			"channels": map[string]any{"inApp": true, "webhookUrl": rcv.URL + "/hook", "emails": []string{"oncall@example.com"}}}).
			WantStatus(t, http.StatusCreated).Decode(t, &created)

		var tested struct {
			Results []struct {
				Channel string
				OK      bool
				Error   string
			}
		}
		ann.Post(t, "/api/projects/"+p.ID+"/alerts/rules/"+created.Rule.ID+"/test", nil).WantStatus(t, http.StatusOK).Decode(t, &tested)
		if len(tested.Results) != 3 || !tested.Results[0].OK || !tested.Results[1].OK || !tested.Results[2].OK {
			t.Fatalf("test results %+v", tested.Results)
		}
		rcv.await(t, "alert.test")
		e.mail.Await(t, "Test: Too many errors")

		e.src.set(10*time.Minute, telemetry.Window{Requests: 200, Errors: 50})
		e.evaluate(t)
		e.evaluate(t)
		// A restart: a new evaluator over the same database.
		newEnv(t, s, false, e.src).evaluate(t)
		firing := alerts(t, ann, p.ID, "firing")
		if len(firing) != 1 || firing[0].Value != 0.25 || *firing[0].Threshold != 0.1 || !strings.Contains(firing[0].Message, "25%") {
			t.Fatalf("firing %+v", firing)
		}
		rcv.await(t, "alert.test", "alert.firing")
		m := e.mail.Await(t, "Firing: Too many errors")
		if m.To[0] != "oncall@example.com" || !strings.Contains(m.Body, "25%") {
			t.Fatalf("mail %+v", m)
		}
		for _, c := range []*testserver.Client{ann, bob} {
			n := inbox(t, c)
			if n.Unread != 2 || n.Notifications[0].Title != "Firing: Too many errors" || n.Notifications[0].Link != "/@ann/"+p.Slug+"?pane=deploy&monitoring=alerts" {
				t.Fatalf("%s's notifications %+v", c.User.Username, n)
			}
		}
		if n := inbox(t, vic); len(n.Notifications) != 0 {
			t.Fatalf("a viewer was notified: %+v", n)
		}

		// Cleared: resolved by itself, and told.
		e.src.set(10*time.Minute, telemetry.Window{Requests: 200, Errors: 1})
		e.evaluate(t)
		all := alerts(t, ann, p.ID, "all")
		if len(all) != 1 || all[0].Status != "resolved" || *all[0].ResolvedBy != "auto" || all[0].ResolvedAt == nil {
			t.Fatalf("after clearing %+v", all)
		}
		rcv.await(t, "alert.test", "alert.firing", "alert.resolved")
		e.mail.Await(t, "Resolved: Too many errors")

		// Silenced: nothing told, neither when it resolves.
		e.src.set(10*time.Minute, telemetry.Window{Requests: 200, Errors: 80})
		e.evaluate(t)
		a := alerts(t, ann, p.ID, "firing")[0]
		rcv.await(t, "alert.test", "alert.firing", "alert.resolved", "alert.firing")
		vic.Post(t, "/api/projects/"+p.ID+"/alerts/"+a.ID+"/silence", map[string]int{"minutes": 60}).WantError(t, http.StatusForbidden, "forbidden")
		bob.Post(t, "/api/projects/"+p.ID+"/alerts/"+a.ID+"/silence", map[string]int{"minutes": 0}).WantError(t, http.StatusBadRequest, "invalid_silence")
		bob.Post(t, "/api/projects/"+p.ID+"/alerts/"+a.ID+"/silence", map[string]int{"minutes": 60}).WantStatus(t, http.StatusOK)
		e.src.set(10*time.Minute, telemetry.Window{Requests: 200})
		e.evaluate(t)
		if got := alerts(t, ann, p.ID, "resolved"); len(got) != 2 || got[0].SilencedUntil == nil {
			t.Fatalf("resolved %+v", got)
		}

		// Resolved by hand.
		e.src.set(10*time.Minute, telemetry.Window{Requests: 200, Errors: 80})
		e.evaluate(t)
		a = alerts(t, ann, p.ID, "firing")[0]
		bob.Post(t, "/api/projects/"+p.ID+"/alerts/"+a.ID+"/resolve", nil).WantStatus(t, http.StatusOK)
		bob.Post(t, "/api/projects/"+p.ID+"/alerts/"+a.ID+"/resolve", nil).WantError(t, http.StatusConflict, "alert_resolved")
		if got := alerts(t, ann, p.ID, "all"); got[0].Status != "resolved" || *got[0].ResolvedBy != "user" {
			t.Fatalf("resolved by hand %+v", got[0])
		}
		// Told of, unlike the silenced alert's end: the events are exactly these.
		rcv.await(t, "alert.test", "alert.firing", "alert.resolved", "alert.firing", "alert.firing", "alert.resolved")

		// Marking read.
		n := inbox(t, bob)
		bob.Post(t, "/api/notifications/read", map[string]any{"ids": []string{n.Notifications[0].ID}}).WantStatus(t, http.StatusNoContent)
		if after := inbox(t, bob); after.Unread != n.Unread-1 || !after.Notifications[0].Read {
			t.Fatalf("after marking one read %+v", after)
		}
		bob.Post(t, "/api/notifications/read", map[string]any{"all": true}).WantStatus(t, http.StatusNoContent)
		if after := inbox(t, bob); after.Unread != 0 {
			t.Fatalf("after marking all read %+v", after)
		}
		bob.Post(t, "/api/notifications/read", map[string]any{}).WantError(t, http.StatusBadRequest, "invalid_notifications")
		if err := notify.New(s.App.DB).DropUser(t.Context(), bob.User.ID); err != nil {
			t.Fatal(err)
		}
		if n := inbox(t, bob); len(n.Notifications) != 0 {
			t.Fatalf("after dropping the user %+v", n)
		}
	})
}

// TestBurnRate: the fast pair of windows fires only when both burn over
// 14.4×; a burst that has passed (the short window clean) does not.
func TestBurnRate(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		e := newEnv(t, s, false, nil)
		ann := e.SignUp(t, "ann")
		p := ann.CreateProject(t, "Api")
		ann.Post(t, "/api/projects/"+p.ID+"/alerts/rules", map[string]any{"name": "Budget", "kind": "burn_rate", "metric": "error_rate", "slo": 0.99}).
			WantStatus(t, http.StatusCreated)
		// 20% errors against a 1% budget: a burn of 20.
		e.src.set(time.Hour, telemetry.Window{Requests: 1000, Errors: 200})
		e.src.set(5*time.Minute, telemetry.Window{Requests: 100})
		e.evaluate(t)
		if got := alerts(t, ann, p.ID, "all"); len(got) != 0 {
			t.Fatalf("a passed burst fired: %+v", got)
		}
		e.src.set(5*time.Minute, telemetry.Window{Requests: 100, Errors: 20})
		e.evaluate(t)
		got := alerts(t, ann, p.ID, "firing")
		if len(got) != 1 || math.Abs(got[0].Value-20) > 1e-9 || *got[0].Threshold != 14.4 {
			t.Fatalf("firing %+v", got)
		}
		// The slow pair: 7× over 6 h and 30 min.
		e.src.set(5*time.Minute, telemetry.Window{Requests: 100})
		e.src.set(6*time.Hour, telemetry.Window{Requests: 1000, Errors: 70})
		e.src.set(30*time.Minute, telemetry.Window{Requests: 1000, Errors: 70})
		e.evaluate(t)
		if got := alerts(t, ann, p.ID, "firing"); len(got) != 1 || *got[0].Threshold != 6 {
			t.Fatalf("slow burn %+v", got)
		}
		e.src.set(30*time.Minute, telemetry.Window{Requests: 1000, Errors: 5})
		e.evaluate(t)
		if got := alerts(t, ann, p.ID, "firing"); len(got) != 0 {
			t.Fatalf("still firing %+v", got)
		}
	})
	if b := alert.Burn(5, 1000, 0.999); b < 4.999 || b > 5.001 {
		t.Fatalf("burn %v", b)
	}
}

// TestTelemetryFires: requests observed by the real telemetry service,
// flushed to its rollups, fire an error-rate rule.
func TestTelemetryFires(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		tel := telemetry.New(s.App.DB, s.App.Projects, telemetry.Options{})
		e := newEnv(t, s, false, tel)
		ann := e.SignUp(t, "ann")
		p := ann.CreateProject(t, "Live")
		ann.Post(t, "/api/projects/"+p.ID+"/alerts/rules", map[string]any{"name": "Errors", "kind": "threshold",
			"metric": "error_rate", "threshold": 0.5}).WantStatus(t, http.StatusCreated)
		for i := range 100 {
			status := http.StatusOK
			if i%10 < 6 {
				status = http.StatusBadGateway
			}
			tel.ObserveRequest(p.ID, "GET", "/items/:id", status, 20*time.Millisecond)
		}
		if err := tel.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		e.evaluate(t)
		got := alerts(t, ann, p.ID, "firing")
		if len(got) != 1 || math.Abs(got[0].Value-0.6) > 1e-9 {
			t.Fatalf("firing %+v", got)
		}
		if n := inbox(t, ann); n.Unread != 1 || !strings.Contains(n.Notifications[0].Body, "60%") {
			t.Fatalf("notifications %+v", n)
		}
	})
}

// TestAnomalyRule: steady traffic with noise fires nothing; three times
// the usual in the latest steps fires, and the alert resolves once
// traffic is back to usual.
func TestAnomalyRule(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		e := newEnv(t, s, false, nil)
		ann := e.SignUp(t, "ann")
		p := ann.CreateProject(t, "Busy")
		ann.Post(t, "/api/projects/"+p.ID+"/alerts/rules", map[string]any{"name": "Odd traffic", "kind": "anomaly", "metric": "requests"}).
			WantStatus(t, http.StatusCreated)
		spike := false
		recent := time.Now().Add(-12 * time.Minute)
		e.src.mu.Lock()
		e.src.at = func(at time.Time) telemetry.Window {
			rng := rand.New(rand.NewPCG(uint64(at.Unix()), 7))
			n := 1000 + rng.NormFloat64()*math.Sqrt(1000)
			if spike && at.After(recent) {
				n *= 3
			}
			return telemetry.Window{Requests: int64(n)}
		}
		e.src.mu.Unlock()
		e.evaluate(t)
		if got := alerts(t, ann, p.ID, "all"); len(got) != 0 {
			t.Fatalf("steady traffic fired: %+v", got)
		}
		e.src.mu.Lock()
		spike = true
		e.src.mu.Unlock()
		e.evaluate(t)
		got := alerts(t, ann, p.ID, "firing")
		if len(got) != 1 || got[0].Value < 2500 || got[0].Threshold != nil {
			t.Fatalf("spike: %+v", got)
		}
		e.src.mu.Lock()
		spike = false
		e.src.mu.Unlock()
		e.evaluate(t)
		if got := alerts(t, ann, p.ID, "firing"); len(got) != 0 {
			t.Fatalf("still firing: %+v", got)
		}
	})
}
