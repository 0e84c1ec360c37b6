package auth

import (
	"fmt"

	"github.com/alexedwards/argon2id"
)

// params follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane):
// strong enough against offline guessing, cheap enough for a 2-core host.
var params = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func hashPassword(p string) (string, error) {
	h, err := argon2id.CreateHash(p, params)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// dummyHash is compared against when no account matches, so an unknown login
// takes as long as a wrong password and does not reveal which accounts exist.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$vtmhB5j740BgU453SVMaKg$Y0kTGxxp9owteykDras4tBc1eKHBlLHLmdJJTu7Y2cM"

func checkPassword(p, hash string) bool {
	if hash == "" {
		hash = dummyHash
	}
	ok, err := argon2id.ComparePasswordAndHash(p, hash)
	return err == nil && ok
}
