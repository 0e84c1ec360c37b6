package projectdb_test

import (
	"testing"

	"ecode/internal/testserver"
)

// The test binary is also the sandbox agent: the relay tests start sandboxes.
func TestMain(m *testing.M) { testserver.Main(m) }
