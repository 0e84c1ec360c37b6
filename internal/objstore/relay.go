package objstore

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"strconv"

	"ecode/internal/runtime"
)

// S3Port is where a sandbox reaches its scope's objects through the S3
// API, on its own loopback.
const S3Port = 9000

// S3Region is the one region the endpoint answers for; clients sign with it.
const S3Region = "us-east-1"

// mac is the store key's HMAC of one purpose and its parts, each purpose
// with its own label so that no value can stand in for another.
func (s *Store) mac(purpose string, parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("ecode objstore " + purpose + " v1"))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// AccessKey is the scope's S3 access key id: derived, so nothing is stored,
// and it names no project.
func (s *Store) AccessKey(sc Scope) string {
	return "EC" + base32.StdEncoding.EncodeToString(s.mac("s3 access key", sc.ProjectID, sc.Env))[:18]
}

// secretKey is the secret access key of an access key id.
func (s *Store) secretKey(accessKey string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("s3 secret key", accessKey))[:40]
}

// S3Env is what commands of the scope are given to use the S3 endpoint:
// the scope's credentials (secrets: masked in output). Where the endpoint
// is comes with the relay.
func (s *Store) S3Env(sc Scope) []string {
	ak := s.AccessKey(sc)
	return []string{"AWS_ACCESS_KEY_ID=" + ak, "AWS_SECRET_ACCESS_KEY=" + s.secretKey(ak)}
}

// S3Relay serves S3Handler to one sandbox of the scope, on its loopback.
func (s *Store) S3Relay(sc Scope) runtime.Relay {
	// AWS_S3_FORCE_PATH_STYLE is for the tools that read it; the AWS SDKs
	// use path-style addressing for an IP endpoint by themselves.
	return loopbackRelay(S3Port, s.S3Handler(sc), "AWS_ENDPOINT_URL=http://127.0.0.1:"+strconv.Itoa(S3Port),
		"AWS_REGION="+S3Region, "AWS_S3_FORCE_PATH_STYLE=true")
}
