// Package seal encrypts small secrets at rest (private keys, tokens,
// project secrets) with AES-256-GCM under the platform's master key. Every
// sealed value names the id of the key that sealed it, so a keyring can
// hold the old key and the new one while values are re-sealed.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// KeySize is the length of a master key: AES-256.
const KeySize = 32

// ErrUnknownKey means a value was sealed under a key the keyring lacks.
var ErrUnknownKey = errors.New("sealed with a key this server does not hold")

// Keyring seals with its current key and opens with any key it holds.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	raw     map[string][]byte // for Derive
}

// NewKeyring makes a keyring that seals with keys[0].
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: no key")
	}
	k := &Keyring{aeads: map[string]cipher.AEAD{}, raw: map[string][]byte{}}
	for i, key := range keys {
		if len(key) != KeySize {
			return nil, fmt.Errorf("seal: key %d is %d bytes, want %d", i, len(key), KeySize)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		id := KeyID(key)
		if i == 0 {
			k.current = id
		}
		k.aeads[id] = aead
		k.raw[id] = key
	}
	return k, nil
}

// Derive returns a 32-byte key for one purpose (an HMAC, a cookie
// signature) from each master key, by the master key's id, with
// HKDF-SHA256. A derived key reveals nothing of the master key or of the
// keys derived for other purposes.
func (k *Keyring) Derive(purpose string) map[string][]byte {
	out := make(map[string][]byte, len(k.raw))
	for id, key := range k.raw {
		d, err := hkdf.Key(sha256.New, key, nil, purpose, KeySize)
		if err != nil {
			panic(fmt.Sprintf("seal: derive %q: %v", purpose, err)) // only for lengths HKDF cannot give
		}
		out[id] = d
	}
	return out
}

// Current is the id of the key new values are sealed with.
func (k *Keyring) Current() string { return k.current }

// KeyID names a key without revealing it: the start of its SHA-256.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

// Seal encrypts plain; aad binds the value to its place (a row id), so a
// sealed value copied to another row does not open.
func (k *Keyring) Seal(plain, aad []byte) string {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	_, _ = rand.Read(nonce) // crypto/rand never fails on Linux
	out := aead.Seal(nonce, nonce, plain, aad)
	return "v1:" + k.current + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// Open decrypts a value Seal made with the same aad.
func (k *Keyring) Open(sealed string, aad []byte) ([]byte, error) {
	parts := strings.SplitN(sealed, ":", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return nil, errors.New("seal: not a sealed value")
	}
	aead, ok := k.aeads[parts[1]]
	if !ok {
		return nil, fmt.Errorf("seal: key %s: %w", parts[1], ErrUnknownKey)
	}
	raw, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < aead.NonceSize() {
		return nil, errors.New("seal: malformed value")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("seal: value does not open (tampered, or sealed for another place): %w", err)
	}
	return plain, nil
}

// LoadKey returns the master key: from env (base64 of 32 bytes) when set,
// else from the file at path, which is created 0600 on first start.
func LoadKey(env, path string) ([]byte, error) {
	if env != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(env))
		if err != nil || len(key) != KeySize {
			return nil, fmt.Errorf("master key: want the base64 of %d random bytes (openssl rand -base64 32)", KeySize)
		}
		return key, nil
	}
	key, err := os.ReadFile(path)
	switch {
	case err == nil && len(key) == KeySize:
		return key, nil
	case err == nil:
		return nil, fmt.Errorf("master key %s: %d bytes, want %d", path, len(key), KeySize)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("master key: %w", err)
	}
	key = make([]byte, KeySize)
	_, _ = rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("master key: %w", err)
	}
	return key, f.Close()
}

// Load makes the keyring from the master key (env, else the key file at
// path) and the earlier keys, base64 and comma-separated, that still open
// old values. (env, else the key file at path) and the
// earlier keys, base64 and comma-separated, that still open old values.
func Load(env, path, previous string) (*Keyring, error) {
	key, err := LoadKey(env, path)
	if err != nil {
		return nil, err
	}
	keys := [][]byte{key}
	for _, p := range strings.Split(previous, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		old, err := base64.StdEncoding.DecodeString(p)
		if err != nil || len(old) != KeySize {
			return nil, fmt.Errorf("previous master key: want the base64 of %d bytes", KeySize)
		}
		keys = append(keys, old)
	}
	return NewKeyring(keys...)
}
