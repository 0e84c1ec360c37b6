package domain

import (
	"net"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"

	"ecode/internal/errs"
)

// profile turns what a person typed into the name DNS and certificates
// use: Unicode mapped and checked (UTS #46), then punycode.
var profile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false), idna.StrictDomainName(true))

// Normalize returns host as a domain is stored and looked up: lower case,
// punycode, no trailing dot, no port. It does not say whether the name may
// be added.
func Normalize(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
	if a, err := profile.ToASCII(host); err == nil {
		return a
	}
	return host
}

// validName checks that name, from a person, is a domain the platform may
// serve and get a certificate for, and returns it normalised. reserved are
// the platform's own names: none of them, nor a name under them, is anyone's.
func validName(name string, reserved []string) (string, error) {
	in := strings.TrimSuffix(strings.TrimSpace(name), ".")
	bad := func(why string) error {
		return errs.Invalid("invalid_domain", "%q is not a domain that can be added: %s.", name, why)
	}
	if in == "" {
		return "", errs.Invalid("invalid_domain", "Give the domain's name, such as shop.example.com.")
	}
	if _, err := netip.ParseAddr(strings.Trim(in, "[]")); err == nil {
		return "", bad("it is an IP address; give a name whose DNS points here")
	}
	if strings.ContainsAny(in, "/:@ *") {
		return "", bad("give only the host name, without scheme, port, path or wildcard")
	}
	a, err := profile.ToASCII(in)
	if err != nil {
		return "", bad("it is not a valid host name")
	}
	labels := strings.Split(a, ".")
	if len(a) > 253 || len(labels) < 2 {
		return "", bad("a domain has at least two labels, such as example.com, and at most 253 characters")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad("each label has 1 to 63 letters, digits or hyphens, and no hyphen at either end")
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", bad("each label has 1 to 63 letters, digits or hyphens, and no hyphen at either end")
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", bad("its last label is a number")
	}
	if own(a, reserved) {
		return "", bad("it is one of this platform's own names")
	}
	return a, nil
}

// own reports whether name, normalised, is localhost, one of reserved or
// under one of them.
func own(name string, reserved []string) bool {
	for _, r := range append([]string{"localhost"}, reserved...) {
		if r = Normalize(r); r != "" && (name == r || strings.HasSuffix(name, "."+r)) {
			return true
		}
	}
	return false
}
