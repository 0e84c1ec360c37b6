package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"ecode/internal/auth"
	"ecode/internal/store"
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
	id, err := auth.NewService(db, auth.Options{}).NewTeamAccount(ctx, "shut")
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
