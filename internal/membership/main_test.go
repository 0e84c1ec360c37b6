package membership_test

import (
	"testing"

	"ecode/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }
