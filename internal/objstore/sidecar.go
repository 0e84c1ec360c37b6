package objstore

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"net/http"
)

// serveSidecar answers what @replit/object-storage (and Replit's Python
// client) ask the Replit sidecar at 127.0.0.1:1106: the default bucket's
// name, and the external-account credential Google's auth library trades
// for an access token. Under STORAGE_EMULATOR_HOST the Node client never
// fetches a token; a client that does gets the scope's own, which this
// relay, bound to the scope, does not need. It reports whether r was one
// of these.
func (s *Store) serveSidecar(w http.ResponseWriter, r *http.Request, sc Scope) bool {
	var v any
	switch {
	case r.URL.Path == "/object-storage/default-bucket" && r.Method == http.MethodGet:
		v = map[string]string{"bucketId": DefaultBucket}
	case r.URL.Path == "/credential" && r.Method == http.MethodGet:
		v = map[string]string{"access_token": s.sidecarToken(sc)}
	case r.URL.Path == "/token" && r.Method == http.MethodPost:
		// RFC 8693 token exchange: the subject token is the credential above.
		if err := r.ParseForm(); err != nil || !hmac.Equal([]byte(r.PostForm.Get("subject_token")), []byte(s.sidecarToken(sc))) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "The subject token is not this sandbox's credential."})
			return true
		}
		v = map[string]any{
			"access_token": s.sidecarToken(sc), "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
			"token_type": "Bearer", "expires_in": 3600,
		}
	default:
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // a client gone away reads nothing
	return true
}

// sidecarToken is the scope's opaque access token: a MAC of the scope, so
// it names nothing and cannot be made for another scope.
func (s *Store) sidecarToken(sc Scope) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("sidecar token", sc.ProjectID, sc.Env))
}
