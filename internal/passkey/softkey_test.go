package passkey_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// softKey is a software authenticator and the browser around it: an ECDSA
// P-256 key that answers the server's options with what
// PublicKeyCredential.toJSON() would send, attestation "none".
type softKey struct {
	id         []byte
	key        *ecdsa.PrivateKey
	origin     string
	userHandle []byte
	counter    uint32 // the next assertion signs counter+1
	resident   bool   // discoverable: says so through credProps and returns the user handle
	synced     bool   // a synced passkey: backup eligible and backed up
	presence   bool   // only touched, its user not verified (no PIN or fingerprint)
}

func newSoftKey(t *testing.T, origin string, resident bool) *softKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		t.Fatal(err)
	}
	return &softKey{id: id, key: key, origin: origin, resident: resident}
}

var b64 = base64.RawURLEncoding

// options is what a test reads of the server's creation or request options.
type options struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		RPID string `json:"rpId"`
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AllowCredentials []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	} `json:"publicKey"`
}

func parseOptions(t *testing.T, raw []byte) options {
	t.Helper()
	var o options
	if err := json.Unmarshal(raw, &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("options %s: %v", raw, err)
	}
	return o
}

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

func (k *softKey) authData(rpID string, flags byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	flags |= flagUP
	if !k.presence {
		flags |= flagUV
	}
	if k.synced {
		flags |= flagBE | flagBS
	}
	return binary.BigEndian.AppendUint32(append(h[:], flags), k.counter)
}

func (k *softKey) clientData(t *testing.T, typ, challenge string) []byte {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// create answers registration options: a new credential, attestation "none".
func (k *softKey) create(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	o := parseOptions(t, raw)
	handle, err := b64.DecodeString(o.PublicKey.User.ID)
	if err != nil {
		t.Fatalf("user id %q: %v", o.PublicKey.User.ID, err)
	}
	k.userHandle = handle
	ecdh, err := k.key.PublicKey.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	point := ecdh.Bytes() // 0x04 || x || y
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: point[1:33], -3: point[33:]})
	if err != nil {
		t.Fatal(err)
	}
	data := k.authData(o.PublicKey.RP.ID, flagAT)
	data = append(data, make([]byte, 16)...) // AAGUID: none
	data = binary.BigEndian.AppendUint16(data, uint16(len(k.id)))
	data = append(append(data, k.id...), cose...)
	att, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": data})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"authenticatorAttachment": "cross-platform",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(k.clientData(t, "webauthn.create", o.PublicKey.Challenge)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"usb"},
		},
		"clientExtensionResults": map[string]any{"credProps": map[string]bool{"rk": k.resident}},
	}
}

// get answers request options with an assertion signed over
// authenticatorData || SHA-256(clientDataJSON), its counter one higher.
func (k *softKey) get(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	o := parseOptions(t, raw)
	k.counter++
	data := k.authData(o.PublicKey.RPID, 0)
	client := k.clientData(t, "webauthn.get", o.PublicKey.Challenge)
	clientHash := sha256.Sum256(client)
	digest := sha256.Sum256(append(append([]byte(nil), data...), clientHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	response := map[string]any{
		"clientDataJSON":    b64.EncodeToString(client),
		"authenticatorData": b64.EncodeToString(data),
		"signature":         b64.EncodeToString(sig),
	}
	if k.resident {
		response["userHandle"] = b64.EncodeToString(k.userHandle)
	}
	return map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"authenticatorAttachment": "cross-platform",
		"response":                response, "clientExtensionResults": map[string]any{},
	}
}
