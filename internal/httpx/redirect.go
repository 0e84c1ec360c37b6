package httpx

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// LocalPath returns next when it is a path on this site, else fallback: the
// one check for every redirect target a request names (?next=). Browsers
// read "//host", "/\host" and "/<tab>/host" (tabs and newlines are dropped)
// as another site, so the target must parse as a bare path that starts with
// exactly one "/" and holds no backslash, whitespace or control character.
// Whoever serves it may decode it again, so each decoding of it must still
// start that way and hold no control character; an encoded space or
// backslash later on ("/@ann/blog?file=my%20notes.md") is a name, not a
// way off the site.
func LocalPath(next, fallback string) string {
	if !utf8.ValidString(next) || !startsLocal(next) || strings.ContainsFunc(next, func(r rune) bool {
		return r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r)
	}) {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return fallback
	}
	// Decode until nothing changes, so "/%252F%252Fevil" is judged as "//evil".
	for s := next; ; {
		d, err := url.PathUnescape(s)
		if err != nil || !startsLocal(d) || strings.ContainsFunc(d, unicode.IsControl) {
			return fallback
		}
		if d == s {
			return next
		}
		s = d
	}
}

// startsLocal reports whether s starts with one "/" and nothing a browser
// could read as the start of a host.
func startsLocal(s string) bool {
	if len(s) == 0 || s[0] != '/' {
		return false
	}
	if len(s) == 1 {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[1:])
	return r != '/' && r != '\\' && r != utf8.RuneError && !unicode.IsSpace(r) && !unicode.IsControl(r)
}
