package kv

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"ecode/internal/errs"
	"ecode/internal/httpx"
)

// Prefix is where the store is served: {base}/v0/{token}, as Replit's is.
const Prefix = "/v0/"

// maxBody bounds a set's body: one value at its largest, percent-encoded.
const maxBody = 3*MaxValueBytes + 64<<10

// ServeHTTP answers the Replit Database protocol. It reads the raw path:
// keys may hold "/", "//", spaces and newlines, which a router that cleans
// paths would change.
func (s *Store) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve(w, r, nil) }

// serve answers r; only, when set, is the one scope a token may name.
func (s *Store) serve(w http.ResponseWriter, r *http.Request, only *Scope) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), Prefix)
	if !ok {
		httpx.Error(w, r, errs.NotFound("not_found", "No key-value store here."))
		return
	}
	token, escKey, hasKey := strings.Cut(rest, "/")
	sc, err := s.scopeOf(token)
	if err == nil && only != nil && sc != *only {
		err = errToken
	}
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	key := ""
	if hasKey {
		if key, err = url.PathUnescape(escKey); err != nil {
			httpx.Error(w, r, errs.Invalid("kv_key_invalid", "The key is not validly escaped."))
			return
		}
	}
	ctx := r.Context()
	switch {
	case r.Method == http.MethodGet && key != "":
		v, err := s.Get(ctx, sc, key)
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, v)
	case r.Method == http.MethodGet:
		keys, err := s.List(ctx, sc, r.URL.Query().Get("prefix"))
		if err != nil {
			httpx.Error(w, r, err)
			return
		}
		if r.URL.Query().Get("encode") == "true" {
			for i, k := range keys {
				keys[i] = url.PathEscape(k)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, strings.Join(keys, "\n"))
	case r.Method == http.MethodPost && key == "":
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			httpx.Error(w, r, errs.TooLarge("kv_value_too_large", "A set's body is at most %d MiB.", maxBody>>20))
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || len(form) == 0 {
			httpx.Error(w, r, errs.Invalid("kv_set_invalid", "A set is a form-encoded body of key=value pairs."))
			return
		}
		pairs := make(map[string]string, len(form))
		for k, vs := range form {
			pairs[k] = vs[len(vs)-1]
		}
		httpx.NoContent(w, r, s.Set(ctx, sc, pairs))
	case r.Method == http.MethodDelete && key != "":
		httpx.NoContent(w, r, s.Delete(ctx, sc, key))
	case r.Method == http.MethodDelete:
		// Replit's Python client sends the key as a multipart field, so
		// that keys starting with "/" survive.
		if err := r.ParseMultipartForm(MaxKeyBytes + 4<<10); err != nil || r.FormValue("key") == "" {
			httpx.Error(w, r, errs.Invalid("kv_key_empty", "Name the key to delete in the path or in a multipart field key."))
			return
		}
		httpx.NoContent(w, r, s.Delete(ctx, sc, r.FormValue("key")))
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		httpx.Error(w, r, errs.Invalid("method_not_allowed", "The store answers GET, POST and DELETE."))
	}
}
