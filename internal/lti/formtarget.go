package lti

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// FormTarget lets the deep-linking page post its answer to the LMS: the
// platform's pages may submit forms only to themselves (CSP form-action),
// so the page of a waiting request also names that request's return URL's
// origin, and no other. next runs inside httpx.SecurityHeaders.
func (s *Service) FormTarget(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.URL.Path, "/lti/deep-link/")
		if ok && r.Method == http.MethodGet && token != "" && !strings.Contains(token, "/") {
			if origin := s.returnOrigin(r, token); origin != "" {
				h := w.Header()
				h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"),
					"form-action 'self'", "form-action 'self' "+origin, 1))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// returnOrigin is the scheme and host of a waiting request's return URL.
func (s *Service) returnOrigin(r *http.Request, token string) string {
	var dl deepLink
	err := s.db.Get(r.Context(), &dl, `SELECT return_url, created_at, used_at FROM lti_deep_links WHERE token = ?`, token)
	if err != nil || dl.UsedAt != 0 || time.Since(time.UnixMilli(dl.CreatedAt)) > deepLinkTTL {
		return ""
	}
	u, err := url.Parse(dl.ReturnURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(u.Host, " ;,'") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
