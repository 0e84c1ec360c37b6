// Command eval runs the agent's eval set (package evals) against an E-Code
// server: for each case a fresh public project, the agent building it from
// the case's prompt, then the case's checks against the app through its
// preview. It prints pass/fail, tokens and times per case, and the pass
// rate.
//
// It is a benchmark, not a test: failing cases do not fail it. It exits
// non-zero only when it cannot do its work (no server, no account, no AI
// model on the server, an unknown case).
//
//	go run ./bench/agent/eval -url http://127.0.0.1:8080 -offline -json report.json
//
// bench/agent/run.sh starts a server (and the scripted model when no API
// key is set) and runs it.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"ecode/bench/agent/evals"
)

// How long the harness waits for an app, once the agent is done.
const (
	startWait  = 90 * time.Second // to listen on $PORT, as the agent's start_app waits
	checkRetry = 20 * time.Second // a failing check is tried again this long
)

func main() {
	server := flag.String("url", "http://127.0.0.1:8080", "the E-Code server")
	names := flag.String("cases", "", "comma-separated case names (default: all)")
	offline := flag.Bool("offline", false, "skip the cases that install packages from a registry")
	timeout := flag.Duration("timeout", 10*time.Minute, "time limit of one case's agent run")
	jsonPath := flag.String("json", "", "also write the report as JSON to this file")
	flag.Parse()

	cases, err := selectCases(evals.All(), *names, *offline)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, *server, cases, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
	rep.print(os.Stdout)
	if *jsonPath != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonPath, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "eval: write the report:", err)
			os.Exit(1)
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "eval: interrupted")
		os.Exit(130)
	}
}

// selectCases picks the named cases (all when names is empty), leaving out
// those that need the network when offline.
func selectCases(all []evals.Case, names string, offline bool) ([]evals.Case, error) {
	var want []string
	for n := range strings.SplitSeq(names, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want = append(want, n)
		}
	}
	for _, n := range want {
		if !slices.ContainsFunc(all, func(c evals.Case) bool { return c.Name == n }) {
			return nil, fmt.Errorf("no case %q", n)
		}
	}
	var out []evals.Case
	for _, c := range all {
		if (len(want) == 0 || slices.Contains(want, c.Name)) && !(offline && c.Network) {
			out = append(out, c)
		}
	}
	return out, nil
}

// run signs up and runs the cases one after another (two cases at once
// would time each other's installs and builds).
func run(ctx context.Context, server string, cases []evals.Case, timeout time.Duration) (*report, error) {
	c, err := newClient(server)
	if err != nil {
		return nil, err
	}
	if err := c.call(ctx, http.MethodGet, "/api/monitoring/health", nil, nil); err != nil {
		return nil, fmt.Errorf("the server does not answer: %w", err)
	}
	user, err := c.signUp(ctx)
	if err != nil {
		return nil, err
	}
	model, err := c.model(ctx)
	if err != nil {
		return nil, err
	}
	rep := &report{Server: server, Model: model, User: user, StartedAt: time.Now()}
	fmt.Fprintf(os.Stderr, "eval: %d cases on %s as %s, model %s\n", len(cases), server, user, model)
	for i, tc := range cases {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(os.Stderr, "[%d/%d] %s … ", i+1, len(cases), tc.Name)
		r := runCase(ctx, c, tc, timeout)
		fmt.Fprintf(os.Stderr, "%s (%s)\n", r.verdict(), seconds(r.TotalMs))
		rep.add(r)
	}
	return rep, nil
}

// runCase builds one case with the agent and checks the app.
func runCase(ctx context.Context, c *client, tc evals.Case, timeout time.Duration) (r result) {
	start := time.Now()
	r = result{Name: tc.Name}
	p, err := c.createProject(ctx, "eval "+tc.Name)
	if err != nil {
		r.Status, r.Failure, r.TotalMs = "error", err.Error(), time.Since(start).Milliseconds()
		return r
	}
	r.ProjectID = p.ID
	// Stop the app once measured, to free the machine for the next case
	// (deferred calls run last first: the total is taken before).
	defer func() { _ = c.stopApp(context.WithoutCancel(ctx), p.ID) }()
	defer func() { r.TotalMs = time.Since(start).Milliseconds() }()

	a, err := c.runAgent(ctx, p.ID, tc.Prompt, timeout)
	r.record(a, start)
	if err != nil {
		r.Status, r.Failure = "error", err.Error()
		return r
	}
	host, err := c.ensureApp(ctx, p, startWait)
	if err != nil {
		r.Failure = err.Error()
		return r
	}
	r.Preview = host
	if r.Failure = runChecks(ctx, newPreview(c.base, host), tc.Checks, checkRetry); r.Failure != "" {
		return r
	}
	missing, err := c.missingFiles(ctx, p.ID, tc.Files)
	switch {
	case err != nil:
		r.Failure = err.Error()
	case len(missing) > 0:
		r.Failure = "missing files: " + strings.Join(missing, ", ")
	default:
		r.Pass = true
	}
	return r
}
