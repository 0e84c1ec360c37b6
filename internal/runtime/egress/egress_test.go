package egress

import (
	"net"
	"net/netip"
	"testing"
)

func TestPublicAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"1.1.1.1": true, "203.0.113.80": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "224.0.0.1": false, "255.255.255.255": false, "::1": false, "::": false,
		"fd00::1": false, "fe80::1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "64:ff9b::a00:1": false,
		// Forms that carry an IPv4 address are judged as that address.
		"::ffff:1.1.1.1": true, "64:ff9b::101:101": true, "64:ff9b::7f00:1": false, "64:ff9b::a9fe:a9fe": false,
		"::127.0.0.1": false, "::ffff:0:7f00:1": false, "64:ff9b:1::a00:1": false,
		"2002:7f00:1::1": false, "2001:0:4136:e378:8000:63bf:3fff:fdd2": false, "100::1": false, "fe80::1%eth0": false,
	} {
		if got := PublicAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddr(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestAllowed(t *testing.T) {
	list := []string{"registry.npmjs.org", ".githubusercontent.com"}
	for host, want := range map[string]bool{
		"registry.npmjs.org": true, "REGISTRY.npmjs.org.": true, "raw.githubusercontent.com": true, "githubusercontent.com": true,
		"evil-registry.npmjs.org": false, "registry.npmjs.org.evil.com": false, "notgithubusercontent.com": false,
	} {
		if got := allowed(list, host); got != want {
			t.Errorf("allowed(%q) = %v, want %v", host, got, want)
		}
	}
}

// interfaceAddrs lists this machine's own addresses.
func interfaceAddrs(t *testing.T) []netip.Addr {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var out []netip.Addr
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

func TestReachableRefusesTheHostsOwnAddresses(t *testing.T) {
	own := interfaceAddrs(t)
	if len(own) == 0 {
		t.Fatal("no interface addresses: not even loopback")
	}
	everything := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	open := Reachable(everything) // an operator who lets every network in still never lets the host in
	for _, a := range own {
		if isOwn, err := HostAddr(a); err != nil || !isOwn {
			t.Errorf("HostAddr(%s) = %v, %v; want true", a, isOwn, err)
		}
		forms := []netip.Addr{a}
		if a.Is4() {
			b := a.As4()
			forms = append(forms, netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: b[0], 13: b[1], 14: b[2], 15: b[3]}),
				netip.AddrFrom16([16]byte{0: 0, 1: 0x64, 2: 0xff, 3: 0x9b, 12: b[0], 13: b[1], 14: b[2], 15: b[3]}))
		}
		for _, f := range forms {
			if Reachable(nil)(f) || open(f) {
				t.Errorf("the host's own address %s (as %s) is reachable", a, f)
			}
		}
		// Named exactly, it is the operator's choice (a git server on this host).
		if !Reachable([]netip.Prefix{netip.PrefixFrom(a, a.BitLen())})(a) {
			t.Errorf("%s named as a single address is still refused", a)
		}
	}
}

func TestReachable(t *testing.T) {
	private := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("fd12::/64")}
	reach := Reachable(private)
	for addr, want := range map[string]bool{
		"1.1.1.1": true, "2606:4700::1111": true, "64:ff9b::101:101": true,
		"10.20.3.4": true, "::ffff:10.20.3.4": true, "fd12::5": true,
		"10.21.0.1": false, "127.0.0.1": false, "169.254.169.254": false, "0.0.0.0": false, "::": false, "fd13::1": false,
	} {
		a := netip.MustParseAddr(addr)
		if own, _ := HostAddr(a); own {
			continue // this machine happens to hold it
		}
		if got := reach(a); got != want {
			t.Errorf("Reachable(%s) = %v, want %v", addr, got, want)
		}
	}
	if Reachable(nil)(netip.Addr{}) {
		t.Error("the zero address is reachable")
	}
}
