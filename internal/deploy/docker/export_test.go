package docker

import "testing"

// Engine is the test engine's address for the tests outside the package,
// which skip where there is none.
func Engine(t testing.TB) string {
	t.Helper()
	if engineHost == "" {
		t.Skip(noEngine)
	}
	return engineHost
}
