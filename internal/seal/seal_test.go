package seal

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	old, cur := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	before, _ := NewKeyring(old)
	sealed := before.Seal([]byte("hunter2"), []byte("row-1"))
	if strings.Contains(sealed, "hunter2") || !strings.HasPrefix(sealed, "v1:"+KeyID(old)+":") {
		t.Fatalf("sealed = %q", sealed)
	}
	// After rotation the old value still opens; new ones use the new key.
	after, err := NewKeyring(cur, old)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := after.Open(sealed, []byte("row-1")); err != nil || string(got) != "hunter2" {
		t.Fatalf("open after rotation = %q, %v", got, err)
	}
	if !strings.HasPrefix(after.Seal([]byte("x"), nil), "v1:"+KeyID(cur)+":") {
		t.Fatal("rotated keyring seals with the old key")
	}
	if _, err := after.Open(sealed, []byte("row-2")); err == nil {
		t.Fatal("value opened in another row")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := after.Open(tampered, []byte("row-1")); err == nil {
		t.Fatal("tampered value opened")
	}
	only, _ := NewKeyring(cur)
	if _, err := only.Open(sealed, []byte("row-1")); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestLoadKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	k1, err := LoadKey("", path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode())
	}
	if k2, _ := LoadKey("", path); !bytes.Equal(k1, k2) {
		t.Fatal("second start made a new key")
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, KeySize))
	if k, err := LoadKey(env, path); err != nil || k[0] != 7 {
		t.Fatalf("env key = %v, %v", k, err)
	}
	if _, err := LoadKey("c2hvcnQ=", path); err == nil {
		t.Fatal("short env key accepted")
	}
}

func TestDerive(t *testing.T) {
	old, cur := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	k, err := NewKeyring(cur, old)
	if err != nil {
		t.Fatal(err)
	}
	a, b := k.Derive("audit"), k.Derive("device")
	if len(a) != 2 || len(a[KeyID(cur)]) != KeySize || len(a[KeyID(old)]) != KeySize {
		t.Fatalf("derived = %d keys", len(a))
	}
	if bytes.Equal(a[k.Current()], b[k.Current()]) || bytes.Equal(a[k.Current()], cur) || bytes.Equal(a[KeyID(cur)], a[KeyID(old)]) {
		t.Fatal("derived keys repeat each other or the master key")
	}
	// The same master key derives the same key after a restart.
	again, _ := NewKeyring(old)
	if !bytes.Equal(again.Derive("audit")[KeyID(old)], a[KeyID(old)]) {
		t.Fatal("derivation is not stable")
	}
}
