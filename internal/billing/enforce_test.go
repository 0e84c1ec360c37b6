package billing

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/ledger"
)

func TestEnforcement(t *testing.T) {
	wl, dep := &workloads{}, &deployments{}
	each(t, Options{Enforce: true, Grace: time.Hour, Workloads: wl, Deployments: dep}, func(t *testing.T, w *world) {
		ctx := context.Background()
		*wl, *dep = workloads{running: []string{blog, site}}, deployments{live: []string{blog, site}}
		if err := w.svc.Allow(ctx, blog); err != nil {
			t.Fatalf("allow with credits: %v", err)
		}

		// Alice spends past her grant.
		w.record(t, cpu("k1", blog, 600*ledger.Micro/2400))
		w.svc.tick(ctx)
		err := w.svc.Allow(ctx, blog)
		wantKind(t, err, errs.KindPaymentRequired, "out_of_credits")
		if e, _ := errs.As(err); !strings.Contains(e.Message, "https://ecode.example/usage") {
			t.Fatalf("message %q has no top-up link", e.Message)
		}
		if err := w.svc.Allow(ctx, site); err != nil {
			t.Fatalf("the team's project was refused: %v", err)
		}
		if len(wl.stopped) != 1 || !strings.HasPrefix(wl.stopped[0], blog+": Out of credits: top up at https://ecode.example/usage") {
			t.Fatalf("stopped %q", wl.stopped)
		}
		if len(dep.suspended) != 0 {
			t.Fatalf("suspended %v within the grace period", dep.suspended)
		}

		// After the grace period her deployment stops; nothing else does.
		w.clock.Add(time.Hour)
		w.svc.tick(ctx)
		w.svc.tick(ctx)
		if !slices.Equal(dep.suspended, []string{blog}) {
			t.Fatalf("suspended %v, want [%s]", dep.suspended, blog)
		}

		// Credits back: it resumes, runs are allowed.
		if _, err := w.svc.Grant(ctx, UserPayer(alice), 1000*ledger.Micro, "admin:1", "Support"); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.Allow(ctx, blog); err != nil {
			t.Fatalf("allow after a grant: %v", err)
		}
		w.svc.tick(ctx)
		w.svc.tick(ctx)
		if !slices.Equal(dep.resumed, []string{blog}) {
			t.Fatalf("resumed %v, want [%s]", dep.resumed, blog)
		}
		var out *int64
		if err := w.db.Get(ctx, &out, `SELECT out_since FROM billing_accounts WHERE payer = ?`, UserPayer(alice)); err != nil || out != nil {
			t.Fatalf("out_since = %v, %v after a grant", out, err)
		}
		w.reconciled(t)
	})
}

func TestNoEnforcement(t *testing.T) {
	wl := &workloads{}
	each(t, Options{Workloads: wl}, func(t *testing.T, w *world) {
		ctx := context.Background()
		*wl = workloads{running: []string{blog}}
		w.record(t, cpu("k1", blog, 600*ledger.Micro/2400))
		w.svc.tick(ctx)
		if err := w.svc.Allow(ctx, blog); err != nil {
			t.Fatalf("allow without enforcement: %v", err)
		}
		if err := w.svc.Reserve(ctx, blog, alice, "run", 1000); err != nil {
			t.Fatalf("reserve without enforcement: %v", err)
		}
		if len(wl.stopped) != 0 {
			t.Fatalf("stopped %v without enforcement", wl.stopped)
		}
	})
}

// TestAllowGPU: GPUs come with the plans that say so, and with every
// plan where credits are not enforced.
func TestAllowGPU(t *testing.T) {
	each(t, Options{Enforce: true}, func(t *testing.T, w *world) {
		ctx := context.Background()
		err := w.svc.AllowGPU(ctx, blog)
		wantKind(t, err, errs.KindForbidden, "gpu_not_in_plan")
		if e, _ := errs.As(err); e.Message != "GPUs come with the Pro or Team plan; change the plan on the Usage page to use one." {
			t.Fatalf("message %q", e.Message)
		}
		if err := w.svc.AllowGPU(ctx, site); err != nil {
			t.Fatalf("the team plan: %v", err)
		}
		if err := w.svc.SetPlan(ctx, UserPayer(alice), "pro", w.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.AllowGPU(ctx, blog); err != nil {
			t.Fatalf("after moving to Pro: %v", err)
		}
	})
	each(t, Options{}, func(t *testing.T, w *world) {
		if err := w.svc.AllowGPU(context.Background(), blog); err != nil {
			t.Fatalf("without enforcement: %v", err)
		}
	})
}

func TestBudgetAlerts(t *testing.T) {
	each(t, Options{}, func(t *testing.T, w *world) {
		ctx := context.Background()
		alerts := func(user string) []string {
			t.Helper()
			ns, _, err := w.notes.List(ctx, &auth.User{ID: user}, false)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, n := range ns {
				if n.Kind == "billing.budget" {
					out = append(out, n.Title+" "+n.Link)
				}
			}
			return out
		}
		w.record(t, cpu("k1", blog, 260*ledger.Micro/2400)) // 52 %
		w.svc.tick(ctx)
		w.svc.tick(ctx)
		if got := alerts(alice); len(got) != 1 || !strings.Contains(got[0], "50%") || !strings.HasSuffix(got[0], " /usage") {
			t.Fatalf("alerts at 52%%: %q", got)
		}
		w.mail.Await(t, "50%")
		// 95 %: one alert, for 80 %.
		w.record(t, cpu("k2", blog, 215*ledger.Micro/2400))
		w.svc.tick(ctx)
		if got := alerts(alice); len(got) != 2 || !strings.Contains(got[0], "80%") {
			t.Fatalf("alerts at 95%%: %q", got)
		}
		// A top-up raises what she has; 100 % of it is far off.
		if _, err := w.svc.TopUp(ctx, UserPayer(alice), 500*ledger.Micro, "t1", ""); err != nil {
			t.Fatal(err)
		}
		w.record(t, cpu("k3", blog, 50*ledger.Micro/2400))
		w.svc.tick(ctx)
		if got := alerts(alice); len(got) != 2 {
			t.Fatalf("alerts after a top-up: %q", got)
		}
		w.record(t, cpu("k4", blog, 500*ledger.Micro/2400))
		w.svc.tick(ctx)
		w.svc.tick(ctx)
		if got := alerts(alice); len(got) != 3 || !strings.Contains(got[0], "all of") {
			t.Fatalf("alerts at 100%%: %q", got)
		}
		if sum, _ := w.svc.Summary(ctx, UserPayer(alice)); !slices.Equal(sum.Alerts, []int{50, 80, 100}) {
			t.Fatalf("summary alerts %v", sum.Alerts)
		}

		// A team's alerts go to its admins and owners, with its link.
		w.record(t, cpu("t1", site, 3000*ledger.Micro/2400))
		w.svc.tick(ctx)
		if got := alerts(alice); len(got) != 4 || got[0] != "You have used 50% of this period's credits /usage?team=acme" {
			t.Fatalf("team alerts to its owner: %q", got)
		}
		if got := alerts(bob); len(got) != 0 {
			t.Fatalf("a team member got %q", got)
		}
		m := w.mail.Await(t, "50%")
		if !strings.Contains(m.Body, "https://ecode.example/usage") {
			t.Fatalf("mail body %q", m.Body)
		}
		if n := len(w.mail.Messages()); n != 4 {
			t.Fatalf("%d mails, want 4", n)
		}
	})
}

func TestRun(t *testing.T) {
	each(t, Options{RatingInterval: 10 * time.Millisecond}, func(t *testing.T, w *world) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { w.svc.Run(ctx); close(done) }()
		w.record(t, cpu("k1", blog, 1))
		deadline := time.Now().Add(10 * time.Second)
		for w.unrated(t) > 0 {
			if time.Now().After(deadline) {
				t.Fatal("Run did not rate")
			}
			time.Sleep(10 * time.Millisecond)
		}
		w.record(t, cpu("k2", blog, 1))
		cancel()
		<-done
		// The last pass on the way out rated what came last.
		wantPosted(t, w.balance(t, UserPayer(alice)), free-2*2400)
	})
}
