package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ecode/internal/auth"
	"ecode/internal/cli"
	"ecode/internal/store"
	"ecode/internal/testserver"
)

func TestVersionAndUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, nil, &out); err != nil || !strings.HasPrefix(out.String(), "ecode ") {
		t.Fatalf("version: %q, %v", out.String(), err)
	}
	out.Reset()
	if err := run(context.Background(), nil, nil, &out); err != nil || !strings.Contains(out.String(), "ecode serve") {
		t.Fatalf("usage: %q, %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"bogus"}, nil, &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}

func TestMigrateAndCreateUser(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ECODE_DATA_DIR", dir)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, nil, &out); err != nil || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate: %q, %v", out.String(), err)
	}
	out.Reset()
	err := run(context.Background(), []string{"admin", "create-user", "-username", "root1", "-email", "root1@example.com"},
		strings.NewReader("a-long-password\n"), &out)
	if err != nil || !strings.Contains(out.String(), "created user root1") {
		t.Fatalf("create-user: %q, %v", out.String(), err)
	}
	err = run(context.Background(), []string{"admin", "create-user", "-username", "root1", "-email", "x@example.com"},
		strings.NewReader("a-long-password\n"), &out)
	if err == nil || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("duplicate create-user: %v", err)
	}
	err = run(context.Background(), []string{"admin", "create-user", "-username", "root2", "-email", "r2@example.com"},
		strings.NewReader("short\n"), &out)
	if err == nil || !strings.Contains(err.Error(), "8 characters") {
		t.Fatalf("weak password: %v", err)
	}
}

func TestServeStartsAndStops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "-addr", addr, "-data-dir", t.TempDir(), "-log-level", "warn"}, nil, &out)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/api/monitoring/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode != 200 && res.StatusCode != 503 {
				t.Fatalf("health status %d", res.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}

func TestClearAllowlist(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ECODE_DATA_DIR", dir)
	ctx := context.Background()
	db, err := store.OpenMigrated(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := auth.NewService(db, nil, auth.Options{}).NewTeamAccount(ctx, db, "shut")
	if err == nil {
		_, err = db.Exec(ctx, `INSERT INTO teams (id, display_name, allowlist, created_by, created_at) VALUES (?, 'Shut', '["10.0.0.0/8"]', '', 0)`, id)
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"admin", "clear-allowlist", "-team", "shut"}, nil, &out); err != nil || !strings.Contains(out.String(), "any address") {
		t.Fatalf("clear-allowlist: %q, %v", out.String(), err)
	}
	if err := run(ctx, []string{"admin", "clear-allowlist", "-team", "nobody"}, nil, &out); err == nil {
		t.Fatal("an unknown team was cleared")
	}
	db, err = store.OpenMigrated(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var list, action string
	if err := db.Get(ctx, &list, `SELECT allowlist FROM teams WHERE id = ?`, id); err != nil || list != "[]" {
		t.Fatalf("allowlist after clearing: %q, %v", list, err)
	}
	if err := db.Get(ctx, &action, `SELECT action FROM audit_log WHERE team = ?`, id); err != nil || action != "team.allowlist.clear" {
		t.Fatalf("audit: %q, %v", action, err)
	}
}

// verify-audit finds the newest entries removed, and checks a head kept
// elsewhere; reseal re-chains the log under the current key.
func TestVerifyAudit(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		s.SignUp(t, "ada")
		s.SignUp(t, "bob")
		ctx := context.Background()
		args := []string{"-data-dir", s.App.Config.DataDir, "-database-url", s.App.Config.DatabaseURL}
		var out bytes.Buffer
		if err := run(ctx, append([]string{"admin", "verify-audit"}, args...), nil, &out); err != nil || !strings.Contains(out.String(), "intact") {
			t.Fatalf("verify-audit: %q, %v", out.String(), err)
		}
		_, head, ok := strings.Cut(out.String(), "head: ")
		if !ok {
			t.Fatalf("no head printed: %q", out.String())
		}
		head = strings.TrimSpace(head)
		kept := filepath.Join(t.TempDir(), "head.txt")
		if err := os.WriteFile(kept, []byte(head+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if err := run(ctx, append([]string{"admin", "reseal"}, args...), nil, &out); err != nil || !strings.Contains(out.String(), "re-chained") {
			t.Fatalf("reseal: %q, %v", out.String(), err)
		}
		out.Reset()
		// Under the same key, re-chaining changes no mac: the head kept from before still holds.
		err := run(ctx, append([]string{"admin", "verify-audit", "-anchor", kept}, args...), nil, &out)
		if err != nil || !strings.Contains(out.String(), "2 anchor(s)") {
			t.Fatalf("verify-audit against a head kept from before: %q, %v", out.String(), err)
		}
		if err := run(ctx, append([]string{"admin", "verify-audit", "-anchor", "not-a-head"}, args...), nil, &out); err == nil {
			t.Fatal("a malformed -anchor was accepted")
		}
		if _, err := s.App.DB.Exec(ctx, `DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)`); err != nil {
			t.Fatal(err)
		}
		err = run(ctx, append([]string{"admin", "verify-audit"}, args...), nil, &out)
		if err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Fatalf("verify-audit after removing the newest entry: %v", err)
		}
	})
}

// grant-credits credits an account through the ledger, refuses a bad
// amount or an unknown name, and reconcile-ledger finds the books in order.
func TestGrantCredits(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ECODE_DATA_DIR", dir)
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"admin", "create-user", "-username", "ada", "-email", "ada@example.com"}, strings.NewReader("a-long-password\n"), &out); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"admin", "grant-credits", "-user", "ada", "-credits", "12.5", "-reason", "course"}, nil, &out); err != nil || !strings.Contains(out.String(), "granted 12.5 credits") {
		t.Fatalf("grant-credits: %q, %v", out.String(), err)
	}
	for _, bad := range [][]string{{"-user", "ada", "-credits", "-3"}, {"-user", "nobody", "-credits", "1"}, {"-credits", "1"}} {
		if err := run(ctx, append([]string{"admin", "grant-credits"}, bad...), nil, &out); err == nil {
			t.Fatalf("grant-credits %v was taken", bad)
		}
	}
	out.Reset()
	if err := run(ctx, []string{"admin", "reconcile-ledger"}, nil, &out); err != nil || !strings.Contains(out.String(), "ledger balanced") {
		t.Fatalf("reconcile-ledger: %q, %v", out.String(), err)
	}
	db, err := store.OpenMigrated(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var credited int64
	if err := db.Get(ctx, &credited, `SELECT credits_posted - debits_posted FROM ledger_balances WHERE account LIKE 'credits:user:%'`); err != nil || credited != 512_500_000 { // the Free plan's 500 of the month, and the grant
		t.Fatalf("ada's balance: %d µcr, %v", credited, err)
	}
}

// The usage lists the client commands, and main hands exactly those to cli.
func TestClientCommandsRouted(t *testing.T) {
	for _, name := range []string{"login", "logout", "projects", "files", "exec", "completion"} {
		if !strings.Contains(usage, "ecode "+name) || !cli.Handles([]string{name}) {
			t.Errorf("client command %s: not in the usage or not routed to cli", name)
		}
	}
	for _, name := range []string{"serve", "migrate", "admin", "version", "sandbox-agent", "connect", "gocache", "help"} {
		if cli.Handles([]string{name}) {
			t.Errorf("server command %s routed to cli", name)
		}
	}
}
