package server_test

import (
	"strings"
	"testing"

	"ecode/internal/testserver"
)

func TestSecurityHeaders(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		for _, path := range []string{"/", "/api/monitoring/health", "/login"} {
			res := s.Anonymous().Get(t, path)
			csp := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"script-src 'self'", "frame-ancestors 'self'", "object-src 'none'", "frame-src 'self' http://*.localhost:*"} {
				if !strings.Contains(csp, want) {
					t.Errorf("%s: CSP %q lacks %q", path, csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
				t.Errorf("%s: CSP allows eval or inline script: %q", path, csp)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") == "" {
				t.Errorf("%s: headers %v", path, res.Header)
			}
			if res.Header.Get("Strict-Transport-Security") != "" {
				t.Errorf("%s: HSTS over plain http", path)
			}
		}
	})
}
