package bwrap

import "testing"

func TestSeccompFilterCompiles(t *testing.T) {
	b, err := seccompFilter()
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || len(b)%8 != 0 {
		t.Fatalf("filter of %d bytes is not a sock_filter array", len(b))
	}
}
