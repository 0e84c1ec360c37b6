// Package egress is the only way out of a sandbox: an HTTP proxy (CONNECT
// for HTTPS, absolute-form requests for plain HTTP) that the host runs on
// one unix socket per sandbox. It lets a sandbox reach the hosts it is
// allowed (the package registries by default, or any public host in a
// project's internet mode) and never an address of the host itself, nor a
// loopback, private, link-local, metadata or carrier-grade NAT one: the
// check runs on the address actually dialled, after DNS, so a name that
// resolves inward is refused.
package egress

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultAllow are the hosts every sandbox may reach: package registries
// and GitHub, for installs and clones.
var DefaultAllow = []string{
	"registry.npmjs.org", "registry.yarnpkg.com",
	"proxy.golang.org", "sum.golang.org", "storage.googleapis.com",
	"pypi.org", "files.pythonhosted.org",
	"github.com", "codeload.github.com", "objects.githubusercontent.com", "raw.githubusercontent.com",
}

// Policy decides what one sandbox may reach.
type Policy struct {
	Allow       []string // exact hosts, or ".suffix" for a domain and its subdomains
	AnyPublic   bool     // internet mode: any host, still public addresses only
	AllowedAddr func(netip.Addr) bool
}

// Proxy serves sandboxes' egress sockets.
type Proxy struct {
	mu       sync.RWMutex
	policies map[string]Policy
	fallback Policy
	log      *slog.Logger
}

// New returns a proxy whose sandboxes get policy unless SetPolicy says
// otherwise. A nil AllowedAddr means Reachable(nil): public addresses that
// are not the host's own.
func New(policy Policy, log *slog.Logger) *Proxy {
	if policy.AllowedAddr == nil {
		policy.AllowedAddr = Reachable(nil)
	}
	return &Proxy{policies: map[string]Policy{}, fallback: policy, log: log}
}

// SetPolicy gives one sandbox its own policy (a project's internet mode);
// it applies to the sandbox's next connection, running or not.
func (p *Proxy) SetPolicy(sandboxID string, pol Policy) {
	if pol.AllowedAddr == nil {
		pol.AllowedAddr = p.fallback.AllowedAddr
	}
	p.mu.Lock()
	p.policies[sandboxID] = pol
	p.mu.Unlock()
}

// Forget drops a sandbox's own policy, for a project that is gone.
func (p *Proxy) Forget(sandboxID string) {
	p.mu.Lock()
	delete(p.policies, sandboxID)
	p.mu.Unlock()
}

func (p *Proxy) policy(sandboxID string) Policy {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if pol, ok := p.policies[sandboxID]; ok {
		return pol
	}
	return p.fallback
}

// Serve answers proxy requests from one sandbox until ln closes. The
// socket is the sandbox's identity: no credential travels.
func (p *Proxy) Serve(ln net.Listener, sandboxID string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c, sandboxID)
	}
}

func (p *Proxy) handle(c net.Conn, sandboxID string) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Time{})
		if req.Method == http.MethodConnect {
			p.connect(c, br, req, sandboxID)
			return
		}
		if !p.forward(c, req, sandboxID) {
			return
		}
	}
}

// Refusal says why a destination is not allowed.
type Refusal struct{ Host, Why string }

func (r *Refusal) Error() string { return fmt.Sprintf("egress to %s refused: %s", r.Host, r.Why) }

func (p *Proxy) dial(ctx context.Context, sandboxID, hostport string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, &Refusal{Host: hostport, Why: "not host:port"}
	}
	pol := p.policy(sandboxID)
	if !pol.AnyPublic && !allowed(pol.Allow, host) {
		return nil, &Refusal{Host: host, Why: "not on this project's list of allowed hosts"}
	}
	if port != "443" && port != "80" && !pol.AnyPublic {
		return nil, &Refusal{Host: hostport, Why: "only ports 80 and 443 are allowed"}
	}
	d := net.Dialer{
		Timeout: 15 * time.Second,
		// The check runs on each address the dialer is about to connect
		// to: after DNS, so no name can smuggle a private address through.
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &Refusal{Host: host, Why: "unparseable address " + address}
			}
			if !pol.AllowedAddr(ap.Addr().Unmap()) {
				return &Refusal{Host: host, Why: "it resolves to " + ap.Addr().String() + ", which is not a public address or is this server's own"}
			}
			return nil
		},
	}
	return d.DialContext(ctx, "tcp", hostport)
}

func allowed(list []string, host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, a := range list {
		if host == a || (strings.HasPrefix(a, ".") && (strings.HasSuffix(host, a) || host == a[1:])) {
			return true
		}
	}
	return false
}

func (p *Proxy) refuse(c net.Conn, host string, err error) {
	status, msg := http.StatusBadGateway, err.Error()
	var ref *Refusal
	if errors.As(err, &ref) {
		status, msg = http.StatusForbidden, ref.Error()
	}
	p.log.Info("egress refused", "host", host, "err", err)
	body := msg + "\n"
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
}

func (p *Proxy) connect(c net.Conn, br *bufio.Reader, req *http.Request, sandboxID string) {
	up, err := p.dial(req.Context(), sandboxID, req.Host)
	if err != nil {
		p.refuse(c, req.Host, err)
		return
	}
	defer up.Close()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(up, br)
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(c, up)
		if uc, ok := c.(*net.UnixConn); ok {
			_ = uc.CloseWrite()
		}
		done <- struct{}{}
	}()
	<-done
	<-done
}

// forward relays one plain-HTTP request; it reports whether the client
// connection may carry another.
func (p *Proxy) forward(c net.Conn, req *http.Request, sandboxID string) bool {
	if req.URL.Host == "" || req.URL.Scheme != "http" {
		p.refuse(c, req.Host, &Refusal{Host: req.Host, Why: "a proxy request needs an absolute http:// URL"})
		return false
	}
	hostport := req.URL.Host
	if req.URL.Port() == "" {
		hostport = net.JoinHostPort(req.URL.Hostname(), "80")
	}
	up, err := p.dial(req.Context(), sandboxID, hostport)
	if err != nil {
		p.refuse(c, req.URL.Host, err)
		return false
	}
	defer up.Close()
	req.RequestURI = ""
	req.Header.Del("Proxy-Connection")
	req.Header.Del("Proxy-Authorization")
	if err := req.Write(up); err != nil {
		p.refuse(c, req.URL.Host, err)
		return false
	}
	res, err := http.ReadResponse(bufio.NewReader(up), req)
	if err != nil {
		p.refuse(c, req.URL.Host, err)
		return false
	}
	defer res.Body.Close()
	// One upstream connection per request keeps this simple; the client
	// opens a new proxy connection for its next request.
	res.Close = true
	_ = res.Write(c)
	return false
}

var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // this network; 0.0.0.0 reaches the host itself
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, cloud metadata
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("224.0.0.0/3"),     // multicast, reserved, broadcast
	netip.MustParsePrefix("::/96"),           // unspecified, loopback, IPv4-compatible (deprecated)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64: where it embeds IPv4 is the operator's choice
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/32"),       // Teredo embeds an IPv4 server and client
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4 embeds any IPv4, private ones too
	netip.MustParsePrefix("fc00::/7"),        // unique local
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("ff00::/8"),        // multicast
}

// nat64 is the well-known NAT64 prefix (RFC 6052): 64:ff9b::a.b.c.d is
// a.b.c.d reached through the network's translator, so it is judged as
// that IPv4 address.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// canonical is the address a connection to a really reaches: IPv4-mapped
// and NAT64 forms become the IPv4 address they carry; zones go.
func canonical(a netip.Addr) netip.Addr {
	a = a.WithZone("").Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		return netip.AddrFrom4([4]byte(b[12:]))
	}
	return a
}

// Reachable is the one address check of the proxy and of git imports'
// early answer. It refuses the host's own addresses (every address on any
// of its interfaces: a public one reaches every service bound to all
// interfaces, the platform's included), then allows the private networks
// the operator names (an internal git server, a company registry mirror)
// and public addresses. An own address is reachable only when the operator
// names exactly it (a /32 or /128), never because a wider network holds it.
func Reachable(private []netip.Prefix) func(netip.Addr) bool {
	return func(a netip.Addr) bool {
		a = canonical(a)
		if !a.IsValid() {
			return false
		}
		for _, p := range private {
			if p.IsSingleIP() && p.Addr() == a {
				return true
			}
		}
		if own, err := HostAddr(a); own || err != nil {
			return false // when the host's addresses can't be listed, nothing is known safe
		}
		for _, p := range private {
			if p.Contains(a) {
				return true
			}
		}
		return PublicAddr(a)
	}
}

// HostAddr reports whether a is one of this machine's own addresses. The
// interfaces are read on every call (tens of microseconds, next to a
// connection's setup), so an address added a moment ago counts at once.
func HostAddr(a netip.Addr) (bool, error) {
	a = canonical(a)
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false, fmt.Errorf("list the host's addresses: %w", err)
	}
	for _, ifa := range addrs {
		n, ok := ifa.(*net.IPNet)
		if !ok {
			continue
		}
		if own, ok := netip.AddrFromSlice(n.IP); ok && own.Unmap() == a {
			return true, nil
		}
	}
	return false, nil
}

// PublicAddr reports whether a is an address on the public internet. It
// knows nothing of this host: Reachable adds that.
func PublicAddr(a netip.Addr) bool {
	a = canonical(a)
	if !a.IsValid() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// Dialer connects only to the addresses allowed admits, checked on the
// address connected to (after DNS), so no name can steer the server's own
// requests (webhooks, domain checks) to the host or a private network.
func Dialer(timeout time.Duration, allowed func(netip.Addr) bool) *net.Dialer {
	return &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &RefusedError{Addr: address}
		}
		if !allowed(ap.Addr()) {
			return &RefusedError{Addr: ap.Addr().String()}
		}
		return nil
	}}
}

// RefusedError is an address Dialer did not connect to.
type RefusedError struct{ Addr string }

func (e *RefusedError) Error() string {
	return "refused: " + e.Addr + " is a private or local address this server does not connect to"
}
