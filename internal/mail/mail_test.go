package mail_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"ecode/internal/mail"
	"ecode/internal/mail/mailtest"
)

func TestSend(t *testing.T) {
	srv := mailtest.New(t, "ops", "s3cret")
	m, err := mail.New(mail.Config{URL: srv.URL(), From: "E-Code <alerts@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	body := "Error rate 12% over 5 minutes.\nSee https://example.com/alerts?x=1 — ünïcode"
	if err := m.Send(t.Context(), []string{"ann@example.com", "bob@example.com"}, "[E-Code] Alert:\r\nBcc: evil@x firing ✓", body); err != nil {
		t.Fatal(err)
	}
	got := srv.Await(t, "firing")
	if got.From != "alerts@example.com" || strings.Join(got.To, ",") != "ann@example.com,bob@example.com" {
		t.Fatalf("envelope %q -> %q", got.From, got.To)
	}
	if got.Subject != "[E-Code] Alert: Bcc: evil@x firing ✓" || got.Header.Get("Bcc") != "" {
		t.Fatalf("subject %q, headers %v", got.Subject, got.Header)
	}
	// SMTP ends the data with a line break.
	if strings.TrimSuffix(got.Body, "\n") != body || got.Header.Get("To") != "ann@example.com, bob@example.com" {
		t.Fatalf("body %q, To %q", got.Body, got.Header.Get("To"))
	}

	// Wrong credentials: refused, nothing delivered.
	bad, err := mail.New(mail.Config{URL: strings.Replace(srv.URL(), "s3cret", "nope", 1), From: "alerts@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Send(t.Context(), []string{"ann@example.com"}, "x", "y"); err == nil || !strings.Contains(err.Error(), "auth") {
		t.Fatalf("bad credentials: %v", err)
	}
	if err := m.Send(t.Context(), []string{"not an address"}, "x", "y"); err == nil {
		t.Fatal("bad recipient accepted")
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages delivered", n)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []mail.Config{
		{URL: "http://mail.example.com", From: "a@example.com"},
		{URL: "smtp://", From: "a@example.com"},
		{URL: "smtp://mail.example.com", From: "not an address"},
	} {
		if _, err := mail.New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, err := mail.New(mail.Config{URL: "smtps://u:p@mail.example.com", From: "E-Code <a@example.com>"}); err != nil {
		t.Fatal(err)
	}
}

// TestTLS: STARTTLS is used when the server offers it, and smtps:// speaks
// TLS from the start; the credentials go over TLS either way.
func TestTLS(t *testing.T) {
	for _, mode := range []mailtest.TLS{mailtest.StartTLS, mailtest.Implicit} {
		srv := mailtest.NewTLS(t, "ops", "s3cret", mode)
		m, err := mail.New(mail.Config{URL: srv.URL(), From: "alerts@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Send(t.Context(), []string{"ann@example.com"}, "over tls", "hello"); err == nil {
			t.Fatalf("%s: a certificate nobody trusts was accepted", srv.URL())
		}
		m = m.WithTLS(&tls.Config{RootCAs: srv.Roots, ServerName: "127.0.0.1"})
		if err := m.Send(t.Context(), []string{"ann@example.com"}, "over tls", "hello"); err != nil {
			t.Fatalf("%s: %v", srv.URL(), err)
		}
		if got := srv.Await(t, "over tls"); !got.TLS {
			t.Fatalf("%s: the message came in the clear", srv.URL())
		}
	}
}
