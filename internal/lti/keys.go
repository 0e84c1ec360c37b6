package lti

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"ecode/internal/store"
)

// publishedKeys is how many of the newest tool keys the JWKS carries: the
// signing one and the one before, so an LMS that cached the old set still
// verifies what was signed just before a rotation.
const publishedKeys = 2

// keyAAD binds a sealed key to its purpose and id.
func keyAAD(kid string) []byte { return []byte("lti-key:" + kid) }

// keyCache holds the tool's keys opened, newest first.
type keyCache struct {
	mu   sync.Mutex
	keys []jwk.Key // private keys with kid and alg set
}

// signingKey returns the newest tool key, making the first one when
// there is none.
func (s *Service) signingKey(ctx context.Context) (jwk.Key, error) {
	keys, err := s.toolKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		return keys[0], nil
	}
	if _, err := s.RotateKey(ctx); err != nil {
		return nil, err
	}
	keys, err = s.toolKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no tool key after making one")
	}
	return keys[0], nil
}

// toolKeys returns the published keys, newest first.
func (s *Service) toolKeys(ctx context.Context) ([]jwk.Key, error) {
	s.signer.mu.Lock()
	defer s.signer.mu.Unlock()
	if s.signer.keys != nil {
		return s.signer.keys, nil
	}
	var rows []struct {
		KID    string `db:"kid"`
		Sealed string `db:"private_key"`
	}
	if err := s.db.Select(ctx, &rows, `SELECT kid, private_key FROM lti_keys ORDER BY created_at DESC, kid DESC LIMIT ?`, publishedKeys); err != nil {
		return nil, fmt.Errorf("list tool keys: %w", err)
	}
	keys := make([]jwk.Key, 0, len(rows))
	for _, r := range rows {
		der, err := s.keys.Open(r.Sealed, keyAAD(r.KID))
		if err != nil {
			return nil, fmt.Errorf("open tool key %s: %w", r.KID, err)
		}
		raw, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("parse tool key %s: %w", r.KID, err)
		}
		k, err := importKey(raw, r.KID)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) > 0 {
		s.signer.keys = keys
	}
	return keys, nil
}

func importKey(raw any, kid string) (jwk.Key, error) {
	k, err := jwk.Import(raw)
	if err != nil {
		return nil, fmt.Errorf("import tool key: %w", err)
	}
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.RS256(), jwk.KeyUsageKey: "sig"} {
		if err := k.Set(name, v); err != nil {
			return nil, fmt.Errorf("set %s of tool key: %w", name, err)
		}
	}
	return k, nil
}

// RotateKey makes a new signing key; the previous one stays in the JWKS
// until the next rotation. It returns the new key's id.
func (s *Service) RotateKey(ctx context.Context) (string, error) {
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("generate tool key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(raw)
	if err != nil {
		return "", fmt.Errorf("encode tool key: %w", err)
	}
	kid := store.NewID()
	if _, err := s.db.Exec(ctx, `INSERT INTO lti_keys (kid, private_key, created_at) VALUES (?, ?, ?)`,
		kid, s.keys.Seal(der, keyAAD(kid)), store.Now()); err != nil {
		return "", fmt.Errorf("store tool key: %w", err)
	}
	s.signer.mu.Lock()
	s.signer.keys = nil
	s.signer.mu.Unlock()
	return kid, nil
}

// JWKS returns the tool's public keys as a JSON Web Key Set.
func (s *Service) JWKS(ctx context.Context) (jwk.Set, error) {
	keys, err := s.toolKeys(ctx)
	if err != nil {
		return nil, err
	}
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("public tool key: %w", err)
		}
		if err := set.AddKey(pub); err != nil {
			return nil, fmt.Errorf("publish tool key: %w", err)
		}
	}
	return set, nil
}

// sign makes a compact JWT of claims with the tool's newest key (RS256,
// its kid in the header).
func (s *Service) sign(ctx context.Context, claims map[string]any) (string, error) {
	key, err := s.signingKey(ctx)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.TypeKey, "JWT"); err != nil {
		return "", fmt.Errorf("set typ: %w", err)
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.RS256(), key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return string(out), nil
}
