package deploy_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	deployment "ecode/internal/deploy"
	"ecode/internal/seal"
	"ecode/internal/testserver"
)

// receiver is a webhook endpoint: it verifies each request's signature
// with the library and keeps what it verified. It answers the first
// failFirst requests 500.
type receiver struct {
	*httptest.Server
	mu        sync.Mutex
	hook      *standardwebhooks.Webhook
	failFirst int
	seen      int
	events    []webhookEvent
	ids       []string
	bad       []string
}

type webhookEvent struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.seen++
		if r.hook == nil || r.hook.Verify(body, req.Header) != nil {
			r.bad = append(r.bad, string(body))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.seen <= r.failFirst {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var e webhookEvent
		if err := json.Unmarshal(body, &e); err != nil {
			r.bad = append(r.bad, string(body))
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.events = append(r.events, e)
		r.ids = append(r.ids, req.Header.Get("webhook-id"))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) trust(t *testing.T, secret string) {
	t.Helper()
	hook, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.hook = hook
	r.mu.Unlock()
}

// await waits for an event of type typ and returns it.
func (r *receiver) await(t *testing.T, typ string) webhookEvent {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if e.Type == typ {
				r.mu.Unlock()
				return e
			}
		}
		bad := r.bad
		r.mu.Unlock()
		if len(bad) > 0 {
			t.Fatalf("unverified deliveries: %q", bad)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event", typ)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type delivery struct {
	ID       string `json:"id"`
	Event    string `json:"event"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
	Code     *int   `json:"code"`
	Error    string `json:"error"`
}

type webhookState struct {
	Webhook *struct {
		URL       string `json:"url"`
		UpdatedBy string `json:"updatedBy"`
	} `json:"webhook"`
	Deliveries []delivery `json:"deliveries"`
}

func setWebhook(t *testing.T, c *testserver.Client, projectID, url string) *string {
	t.Helper()
	var out struct{ Secret *string }
	c.Put(t, "/api/projects/"+projectID+"/deployment/webhook", map[string]any{"url": url}).WantStatus(t, http.StatusOK).Decode(t, &out)
	return out.Secret
}

func testWebhook(t *testing.T, c *testserver.Client, projectID string) delivery {
	t.Helper()
	var out struct{ Delivery delivery }
	c.Post(t, "/api/projects/"+projectID+"/deployment/webhook/test", map[string]any{}).WantStatus(t, http.StatusOK).Decode(t, &out)
	return out.Delivery
}

// TestWebhookSetup: the URL is checked, the signing secret shown once,
// a test event signed and delivered, and only editors see any of it.
func TestWebhookSetup(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		rcv := newReceiver(t)
		c := s.SignUp(t, "wes")
		p := c.CreateProject(t, "Hooked")
		base := "/api/projects/" + p.ID + "/deployment/webhook"

		c.Post(t, base+"/test", map[string]any{}).WantError(t, http.StatusNotFound, "webhook_not_found")
		for _, bad := range []string{"ftp://example.com/x", "not a url", "https://user:pw@example.com/", "http:///path"} {
			c.Put(t, base, map[string]any{"url": bad}).WantError(t, http.StatusBadRequest, "invalid_webhook_url")
		}
		secret := setWebhook(t, c, p.ID, rcv.URL+"/first")
		if secret == nil || !strings.HasPrefix(*secret, "whsec_") {
			t.Fatalf("secret %v", secret)
		}
		rcv.trust(t, *secret)
		// Changing the URL keeps the secret, and does not show it again.
		if again := setWebhook(t, c, p.ID, rcv.URL+"/hooks"); again != nil {
			t.Fatalf("secret shown again: %q", *again)
		}
		var st webhookState
		res := c.Get(t, base).WantStatus(t, http.StatusOK)
		res.Decode(t, &st)
		if st.Webhook == nil || st.Webhook.URL != rcv.URL+"/hooks" || st.Webhook.UpdatedBy != "wes" || strings.Contains(string(res.Body), *secret) {
			t.Fatalf("state %s", res.Body)
		}
		var stored string
		if err := s.App.DB.Get(t.Context(), &stored, `SELECT secret FROM deployment_webhooks`); err != nil || strings.Contains(stored, strings.TrimPrefix(*secret, "whsec_")) {
			t.Fatalf("stored %q, %v", stored, err)
		}

		d := testWebhook(t, c, p.ID)
		if d.Status != "delivered" || d.Attempts != 1 || d.Code == nil || *d.Code != http.StatusNoContent {
			t.Fatalf("test delivery %+v", d)
		}
		if e := rcv.await(t, "webhook.test"); e.Data["projectId"] != p.ID || e.Data["sentBy"] != "wes" {
			t.Fatalf("test event %+v", e)
		}
		c.Get(t, base).WantStatus(t, http.StatusOK).Decode(t, &st)
		if len(st.Deliveries) != 1 || st.Deliveries[0].ID != d.ID || st.Deliveries[0].Status != "delivered" {
			t.Fatalf("deliveries %+v", st.Deliveries)
		}

		// A receiver refusing the signature is a failure, not retried.
		if rotated := setRotated(t, c, p.ID, rcv.URL+"/hooks"); rotated == *secret {
			t.Fatal("rotate kept the secret")
		}
		if d := testWebhook(t, c, p.ID); d.Status != "failed" || d.Attempts != 1 || d.Code == nil || *d.Code != http.StatusUnauthorized {
			t.Fatalf("delivery with the old secret %+v", d)
		}

		vic := s.SignUp(t, "vic")
		c.Post(t, "/api/projects/"+p.ID+"/members", map[string]string{"username": "vic", "role": "viewer"}).WantStatus(t, http.StatusCreated)
		vic.Get(t, base).WantError(t, http.StatusForbidden, "forbidden")
		vic.Post(t, base+"/test", map[string]any{}).WantError(t, http.StatusForbidden, "forbidden")
		s.SignUp(t, "sly").Put(t, base, map[string]any{"url": rcv.URL}).WantError(t, http.StatusNotFound, "not_found")

		c.Delete(t, base).WantStatus(t, http.StatusNoContent)
		c.Delete(t, base).WantError(t, http.StatusNotFound, "webhook_not_found")
	}, testserver.WithWebhookPrivate("127.0.0.1/32"))
}

func setRotated(t *testing.T, c *testserver.Client, projectID, url string) string {
	t.Helper()
	var out struct{ Secret *string }
	c.Put(t, "/api/projects/"+projectID+"/deployment/webhook", map[string]any{"url": url, "rotateSecret": true}).
		WantStatus(t, http.StatusOK).Decode(t, &out)
	if out.Secret == nil {
		t.Fatal("no new secret")
	}
	return *out.Secret
}

// TestWebhookRefusesPrivate: by default a webhook reaches public
// addresses only; the server's own loopback is refused at connect time.
func TestWebhookRefusesPrivate(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		rcv := newReceiver(t)
		c := s.SignUp(t, "pri")
		p := c.CreateProject(t, "Local")
		for _, url := range []string{rcv.URL, strings.Replace(rcv.URL, "127.0.0.1", "localhost", 1)} {
			setWebhook(t, c, p.ID, url)
			d := testWebhook(t, c, p.ID)
			if d.Status != "failed" || d.Code != nil || !strings.Contains(d.Error, "refused") {
				t.Fatalf("%s: delivery %+v", url, d)
			}
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if rcv.seen != 0 {
			t.Fatalf("the receiver was reached %d times", rcv.seen)
		}
	})
}

// TestFailureWebhook: a failed scheduled run and a failed build are
// posted, signed, retried after a 5xx under the same message id; the
// run sees the deployment's overrides of the project's secrets.
func TestFailureWebhook(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		rcv := newReceiver(t)
		rcv.failFirst = 1
		c := s.SignUp(t, "fay")
		p := project(t, c, "Flaky", map[string]string{
			"job.sh": "[ \"$MODE\" = production ] && echo override seen\n[ \"$KEEP\" = kept ] && echo inherited seen\nexit 3\n",
		})
		c.Put(t, "/api/projects/"+p.ID+"/secrets/MODE", map[string]string{"value": "development"}).WantStatus(t, http.StatusNoContent)
		c.Put(t, "/api/projects/"+p.ID+"/secrets/KEEP", map[string]string{"value": "kept"}).WantStatus(t, http.StatusNoContent)
		c.Put(t, "/api/projects/"+p.ID+"/deployment/env/MODE", map[string]string{"value": "production"}).WantStatus(t, http.StatusNoContent)
		rcv.trust(t, *setWebhook(t, c, p.ID, rcv.URL))

		setConfig(t, c, p.ID, map[string]any{"target": "scheduled", "run": "sh job.sh", "schedule": "every hour"})
		deployReady(t, c, p.ID)
		e, log := settle(t, c, p.ID, runNow(t, c, p.ID).ID)
		if e.Status != "failed" || e.ExitCode == nil || *e.ExitCode != 3 {
			t.Fatalf("run %+v: %s", e, log)
		}
		if !strings.Contains(log, "override seen") || !strings.Contains(log, "inherited seen") {
			t.Fatalf("the run's environment: %s", log)
		}
		ev := rcv.await(t, "execution.failed")
		if ev.Data["executionId"] != e.ID || ev.Data["status"] != "failed" || ev.Data["exitCode"] != float64(3) || ev.Data["projectId"] != p.ID {
			t.Fatalf("event %+v", ev)
		}
		if _, err := time.Parse(time.RFC3339, ev.Timestamp); err != nil {
			t.Fatalf("timestamp %q", ev.Timestamp)
		}
		rcv.mu.Lock()
		if rcv.seen != 2 {
			t.Errorf("the receiver was asked %d times; want a 500 then the delivery", rcv.seen)
		}
		rcv.mu.Unlock()
		var st webhookState
		deadline := time.Now().Add(10 * time.Second)
		for {
			c.Get(t, "/api/projects/"+p.ID+"/deployment/webhook").WantStatus(t, http.StatusOK).Decode(t, &st)
			if len(st.Deliveries) == 1 && st.Deliveries[0].Status == "delivered" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliveries %+v", st.Deliveries)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if d := st.Deliveries[0]; d.Event != "execution.failed" || d.Attempts != 2 || *d.Code != http.StatusNoContent {
			t.Fatalf("delivery %+v", d)
		}

		setConfig(t, c, p.ID, map[string]any{"target": "scheduled", "build": "echo broken; exit 1", "run": "sh job.sh", "schedule": "every hour"})
		rel, _ := finish(t, c, p.ID, deploy(t, c, p.ID).ID)
		if rel.Status != "failed" {
			t.Fatalf("release %+v", rel)
		}
		ev = rcv.await(t, "release.failed")
		if ev.Data["releaseId"] != rel.ID || ev.Data["createdBy"] != "fay" || !strings.Contains(ev.Data["error"].(string), "build failed") {
			t.Fatalf("event %+v", ev)
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if len(rcv.ids) != 2 || rcv.ids[0] == rcv.ids[1] {
			t.Fatalf("message ids %v", rcv.ids)
		}
	}, testserver.WithWebhookPrivate("127.0.0.1/32"))
}

// TestScheduleFloor: a schedule running more often than the server's
// floor is refused, naming the floor; one at the floor is taken.
func TestScheduleFloor(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		c := s.SignUp(t, "flo")
		p := c.CreateProject(t, "Often")
		for _, spec := range []string{"@every 1s", "@every 30s", "*/2 * * * *", "every 3 minutes"} {
			res := c.Put(t, "/api/projects/"+p.ID+"/deployment/config", map[string]any{"target": "scheduled", "run": "true", "schedule": spec}).
				WantError(t, http.StatusBadRequest, "invalid_deployment")
			if !strings.Contains(string(res.Body), "5m0s") {
				t.Errorf("%s: %s does not name the floor", spec, res.Body)
			}
		}
		for _, spec := range []string{"@every 5m", "*/5 * * * *", "every hour"} {
			c.Put(t, "/api/projects/"+p.ID+"/deployment/config", map[string]any{"target": "scheduled", "run": "true", "schedule": spec}).
				WantStatus(t, http.StatusOK)
		}
		// Written by hand, a schedule under the floor does not deploy.
		c.Put(t, "/api/projects/"+p.ID+"/files/ecode.toml", "[deployment]\ntarget = \"scheduled\"\nrun = \"true\"\nschedule = \"@every 10s\"\n").
			WantStatus(t, http.StatusNoContent)
		c.Post(t, "/api/projects/"+p.ID+"/deployments", map[string]any{}).WantError(t, http.StatusBadRequest, "invalid_deployment")
	}, testserver.WithMinSchedule(5*time.Minute))
}

// Rotation: resealing moves each webhook's signing secret to the new
// master key; the old key alone opens it no more.
func TestResealWebhooks(t *testing.T) {
	oldKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, seal.KeySize))
	newKey := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, seal.KeySize))
	keys := func(current, previous string) *seal.Keyring {
		k, err := seal.Load(current, "", previous)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		c := s.SignUp(t, "rot")
		p := c.CreateProject(t, "Rotate")
		secret := setWebhook(t, c, p.ID, "https://hooks.example.com/x")
		if n, err := deployment.ResealWebhooks(t.Context(), s.App.DB, keys(newKey, oldKey)); err != nil || n != 1 {
			t.Fatalf("reseal = %d, %v", n, err)
		}
		var stored string
		if err := s.App.DB.Get(t.Context(), &stored, `SELECT secret FROM deployment_webhooks`); err != nil {
			t.Fatal(err)
		}
		aad := []byte("deployment webhook:" + p.ID)
		if v, err := keys(newKey, "").Open(stored, aad); err != nil || string(v) != *secret {
			t.Fatalf("the new key opens %q, %v", v, err)
		}
		if _, err := keys(oldKey, "").Open(stored, aad); !errors.Is(err, seal.ErrUnknownKey) {
			t.Fatalf("the old key still opens it: %v", err)
		}
	}, testserver.WithMasterKey(oldKey))
}
