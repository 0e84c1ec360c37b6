package domain

import (
	"testing"

	"ecode/internal/errs"
)

func TestValidName(t *testing.T) {
	reserved := []string{"code.example.org", "localhost", "app.localhost"}
	for _, c := range []struct{ in, want string }{
		{"shop.example.com", "shop.example.com"},
		{"  Shop.Example.COM. ", "shop.example.com"},
		{"bücher.example", "xn--bcher-kva.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"a-b.c-d.example.co.uk", "a-b.c-d.example.co.uk"},
		{"example.org", "example.org"},             // the platform's parent is not its own
		{"other.example.org", "other.example.org"}, // nor its siblings
		{"", ""},
		{"com", ""},
		{"127.0.0.1", ""},
		{"[::1]", ""},
		{"::1", ""},
		{"1.2.3.4.5", ""},
		{"https://shop.example.com", ""},
		{"shop.example.com:8443", ""},
		{"shop.example.com/path", ""},
		{"*.example.com", ""},
		{"-shop.example.com", ""},
		{"shop-.example.com", ""},
		{"sh_op.example.com", ""},
		{"shop..example.com", ""},
		{"localhost", ""},
		{"x.localhost", ""},
		{"code.example.org", ""},
		{"CODE.example.org", ""},
		{"sub.code.example.org", ""},
		{"site--alice.app.localhost", ""},
		{string(make([]byte, 64)) + ".example.com", ""},
	} {
		got, err := validName(c.in, reserved)
		if c.want == "" {
			if e, ok := errs.As(err); !ok || e.Kind != errs.KindInvalid || e.Code != "invalid_domain" {
				t.Errorf("validName(%q) = %q, %v; want invalid_domain", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("validName(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Shop.Example.com:443": "shop.example.com",
		"shop.example.com.":    "shop.example.com",
		"BÜCHER.example":       "xn--bcher-kva.example",
		"127.0.0.1:8080":       "127.0.0.1",
		"[::1]:80":             "::1",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
