package webhook_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"ecode/internal/webhook"
)

func TestDeliver(t *testing.T) {
	secret := webhook.NewSecret()
	hook, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	answers := []int{http.StatusServiceUnavailable, http.StatusNoContent}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if hook.Verify(body, r.Header) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(answers[min(int(calls.Add(1))-1, len(answers)-1)])
	}))
	defer srv.Close()
	body, err := webhook.Body("x.happened", time.Unix(0, 0), map[string]int{"n": 1})
	if err != nil || string(body) != `{"type":"x.happened","timestamp":"1970-01-01T00:00:00Z","data":{"n":1}}` {
		t.Fatalf("body %s, %v", body, err)
	}
	msg := webhook.Message{ID: webhook.NewID(), URL: srv.URL, Secret: secret, Body: body}
	loopback := func(a netip.Addr) bool { return a.IsLoopback() }

	var retried []webhook.Result
	res := webhook.New(loopback, time.Millisecond).Deliver(t.Context(), msg, 3, func(r webhook.Result) { retried = append(retried, r) })
	if res.Err != nil || res.Attempts != 2 || *res.Code != http.StatusNoContent || len(retried) != 1 || *retried[0].Code != http.StatusServiceUnavailable {
		t.Fatalf("result %+v, retried %+v", res, retried)
	}

	// A 4xx is final; so is an address the policy refuses, never dialled.
	msg.Secret = webhook.NewSecret()
	if res := webhook.New(loopback, time.Millisecond).Deliver(t.Context(), msg, 3, nil); res.Attempts != 1 || *res.Code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %+v", res)
	}
	before := calls.Load()
	res = webhook.New(nil, time.Millisecond).Deliver(t.Context(), msg, 3, nil)
	if res.Attempts != 1 || res.Code != nil || res.Err == nil || !strings.Contains(res.Err.Error(), "refused") || calls.Load() != before {
		t.Fatalf("loopback by default: %+v", res)
	}
	if webhook.CheckURL("https://user@hooks.example.com") == nil || webhook.CheckURL("https://hooks.example.com/x") != nil {
		t.Fatal("CheckURL")
	}
}
