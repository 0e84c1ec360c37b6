package team

import (
	"fmt"
	"slices"
	"testing"
)

func TestParseAllowlist(t *testing.T) {
	list, err := ParseAllowlist([]string{" 10.1.2.3/8", "192.0.2.7", "::ffff:198.51.100.0/120", "2001:DB8::1/32", "fe80::1", "", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "198.51.100.0/24", "2001:db8::/32", "fe80::1/128"}
	if got := texts(list); !slices.Equal(got, want) {
		t.Fatalf("parsed %v, want %v", got, want)
	}
	for ip, in := range map[string]bool{
		"10.200.0.1": true, "::ffff:10.0.0.1": true, "192.0.2.7": true, "192.0.2.8": false,
		"198.51.100.255": true, "2001:db8:ffff::1": true, "2001:db9::1": false, "fe80::1%eth0": true, "not an ip": false,
	} {
		if allows(list, ip) != in {
			t.Errorf("allows(%s) = %v", ip, !in)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "fe80::1%eth0", "1.2.3"} {
		if _, err := ParseAllowlist([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	many := make([]string, maxAllowlist+1)
	for i := range many {
		many[i] = fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
	}
	if _, err := ParseAllowlist(many); err == nil {
		t.Error("an allowlist over the limit accepted")
	}
}

// BenchmarkAllows is the cost a request to a team's project pays for the
// allowlist once it is cached: a full list, the address at its end.
func BenchmarkAllows(b *testing.B) {
	entries := make([]string, maxAllowlist)
	for i := range entries {
		entries[i] = fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)
	}
	list, err := ParseAllowlist(entries)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !allows(list, "10.0.199.7") {
			b.Fatal("refused")
		}
	}
}
