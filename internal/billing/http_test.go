package billing

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"ecode/internal/auth"
	"ecode/internal/httpx"
	"ecode/internal/ledger"
)

// client calls billing's routes as a person (nil: nobody). The server
// here is the routes alone, with the session already read; the whole
// platform's tests reach them through testserver.
type client struct {
	t   *testing.T
	srv *httptest.Server
	u   *auth.User
}

func serve(t *testing.T, s *Service) func(u *auth.User) client {
	rt := httpx.NewRouter()
	s.Routes(rt)
	var users = map[string]*auth.User{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := users[r.Header.Get("X-User")]; u != nil {
			r = r.WithContext(auth.WithUser(r.Context(), u))
		}
		rt.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return func(u *auth.User) client {
		if u != nil {
			users[u.ID] = u
		}
		return client{t, srv, u}
	}
}

func (c client) do(method, path, body string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.u != nil {
		req.Header.Set("X-User", c.u.ID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return res.StatusCode, []byte(b.String())
}

func (c client) want(method, path, body string, status int, out any) {
	c.t.Helper()
	got, b := c.do(method, path, body)
	if got != status {
		c.t.Fatalf("%s %s = %d %s, want %d", method, path, got, b, status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

func TestHTTP(t *testing.T) {
	each(t, Options{Enforce: true}, func(t *testing.T, w *world) {
		as := serve(t, w.svc)
		nobody := as(nil)
		a := as(&auth.User{ID: alice, Username: "alice"})
		b := as(&auth.User{ID: bob, Username: "bob"})
		root := as(&auth.User{ID: carol, Username: "carol", IsAdmin: true})

		nobody.want("GET", "/api/billing", "", 401, nil)
		var got struct {
			Billing Summary `json:"billing"`
		}
		a.want("GET", "/api/billing", "", 200, &got)
		if got.Billing.Payer != UserPayer(alice) || got.Billing.Balance != free || got.Billing.Plan.ID != "free" || !got.Billing.Enforced {
			t.Fatalf("billing = %+v", got.Billing)
		}
		a.want("GET", "/api/billing?team=acme", "", 200, &got)
		if got.Billing.Payer != TeamPayer(acme) || got.Billing.Plan.ID != "team" {
			t.Fatalf("team billing = %+v", got.Billing)
		}
		b.want("GET", "/api/billing?team=acme", "", 403, nil)
		root.want("GET", "/api/billing/usage?team=acme", "", 403, nil)
		a.want("GET", "/api/billing?team=nope", "", 403, nil)

		var plans struct {
			Plans  []Plan      `json:"plans"`
			TopUps TopUps      `json:"topUps"`
			Prices []priceView `json:"prices"`
		}
		a.want("GET", "/api/billing/plans", "", 200, &plans)
		if len(plans.Plans) != 3 || len(plans.Prices) != 11 || plans.TopUps.MinCredits != 500 || plans.Prices[0].Category != "compute" {
			t.Fatalf("plans = %+v", plans)
		}

		// Usage by alice and bob in the team's project, rated.
		w.record(t, cpu("k1", blog, 10), Usage{Key: "k2", Meter: MeterAIIn, Attr: "claude-opus-4", Quantity: 100, ProjectID: site, UserID: bob},
			Usage{Key: "k3", Meter: MeterEgress, Quantity: 1e9, ProjectID: site})
		w.rate(t)
		var usage struct {
			Usage struct {
				From, To int64
				Rows     []UsageRow
			} `json:"usage"`
		}
		a.want("GET", "/api/billing/usage", "", 200, &usage)
		if len(usage.Usage.Rows) != 1 || usage.Usage.Rows[0] != (UsageRow{Day: "2026-12-04", Category: "compute", Meter: MeterCPU,
			ProjectID: blog, Project: "alice/blog", UserID: alice, User: "alice", Quantity: 10_000_000, Amount: 24000}) {
			t.Fatalf("usage = %+v", usage.Usage)
		}
		a.want("GET", "/api/billing/usage?team=acme", "", 200, &usage)
		if len(usage.Usage.Rows) != 2 || usage.Usage.Rows[0].User != "bob" || usage.Usage.Rows[0].Amount != 150_000 ||
			usage.Usage.Rows[1].User != "—" || usage.Usage.Rows[1].Category != "egress" {
			t.Fatalf("team usage = %+v", usage.Usage)
		}
		a.want("GET", "/api/billing/usage?from=10&to=5", "", 400, nil)

		for _, q := range []string{"?team=acme", "?team=acme&period=2026-12"} {
			status, body := a.do("GET", "/api/billing/statement.csv"+q, "")
			if status != 200 {
				t.Fatalf("statement = %d %s", status, body)
			}
			recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 4 || strings.Join(recs[0], ",") != "date,category,meter,detail,project,person,quantity,unit,credits" ||
				strings.Join(recs[1], ",") != "2026-12-04,ai,ai.input,claude-opus-4,acme/site,bob,100,token,0.15" ||
				strings.Join(recs[3], ",") != "total,,,,,,,,10.15" {
				t.Fatalf("statement %s:\n%s", q, body)
			}
		}
		a.want("GET", "/api/billing/statement.csv?period=2026-13", "", 400, nil)
		b.want("GET", "/api/billing/statement.csv?team=acme", "", 403, nil)

		// Grants by a platform administrator only.
		a.want("POST", "/api/admin/billing/grants", `{"user":"bob","credits":5,"reason":"x"}`, 403, nil)
		var grant struct{ Transfer ledger.Transfer }
		root.want("POST", "/api/admin/billing/grants", `{"user":"bob","credits":12.5,"reason":"Beta tester"}`, 201, &grant)
		if grant.Transfer.Amount != 12_500_000 || grant.Transfer.Credit != ledger.Account(UserPayer(bob)) || grant.Transfer.Kind != "grant" {
			t.Fatalf("grant = %+v", grant.Transfer)
		}
		root.want("POST", "/api/admin/billing/grants", `{"team":"acme","credits":1}`, 201, nil)
		root.want("POST", "/api/admin/billing/grants", `{"user":"bob","team":"acme","credits":1}`, 400, nil)
		root.want("POST", "/api/admin/billing/grants", `{"user":"bob","credits":1.0000001}`, 400, nil)
		root.want("POST", "/api/admin/billing/grants", `{"user":"bob","credits":-1}`, 400, nil)
		root.want("POST", "/api/admin/billing/grants", `{"user":"nobody","credits":1}`, 404, nil)
		wantPosted(t, w.balance(t, UserPayer(bob)), free+12_500_000)

		var txs struct{ Transactions []Transaction }
		b.want("GET", "/api/billing/transactions?limit=10", "", 200, &txs)
		// Transfers made in the same millisecond may list in either order.
		signed := func() map[string]int64 {
			m := map[string]int64{}
			for _, tr := range txs.Transactions {
				m[tr.Kind+" "+tr.Memo] += tr.Amount
			}
			return m
		}
		if m := signed(); len(txs.Transactions) != 2 || m["grant Beta tester"] != 12_500_000 {
			t.Fatalf("transactions = %+v", txs.Transactions)
		}
		a.want("GET", "/api/billing/transactions?team=acme", "", 200, &txs)
		if m := signed(); len(txs.Transactions) != 4 || m["usage ai.input 2026-12-04"] != -150_000 || m["usage egress 2026-12-04"] != -10_000_000 {
			t.Fatalf("team transactions = %+v", txs.Transactions)
		}
		b.want("GET", "/api/billing/transactions?limit=0", "", 400, nil)

		var rep struct {
			Report struct {
				OK       bool
				Problems []string
			}
		}
		a.want("GET", "/api/admin/billing/reconcile", "", 403, nil)
		root.want("GET", "/api/admin/billing/reconcile", "", 200, &rep)
		if !rep.Report.OK || rep.Report.Problems == nil {
			t.Fatalf("reconcile = %+v", rep)
		}
	})
}

func TestPayer(t *testing.T) {
	each(t, Options{}, func(t *testing.T, w *world) {
		r := httptest.NewRequest("POST", "/api/billing/checkout", nil)
		if _, _, err := w.svc.Payer(r, ""); err == nil {
			t.Fatal("nobody had a payer")
		}
		r = r.WithContext(auth.WithUser(r.Context(), &auth.User{ID: bob, Email: "bob@example.com"}))
		if p, e, err := w.svc.Payer(r, ""); err != nil || p != UserPayer(bob) || e != "bob@example.com" {
			t.Fatalf("Payer = %s, %s, %v", p, e, err)
		}
		if _, _, err := w.svc.Payer(r, "acme"); err == nil {
			t.Fatal("a team member may pay for the team")
		}
		r = r.WithContext(auth.WithUser(r.Context(), &auth.User{ID: alice, Email: "alice@example.com"}))
		if p, _, err := w.svc.Payer(r, "acme"); err != nil || p != TeamPayer(acme) {
			t.Fatalf("Payer(acme) = %s, %v", p, err)
		}
	})
}
