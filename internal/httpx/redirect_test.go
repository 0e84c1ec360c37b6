package httpx

import (
	"net/url"
	"strings"
	"testing"
)

func TestLocalPath(t *testing.T) {
	for _, next := range []string{
		"/", "/settings", "/@ann/blog", "/@ann/blog?file=my%20notes.md#top", "/a/b/../c",
		"/api/preview/pass?host=x--y.localhost&next=%2Fpage", "/caf%C3%A9", "/%40ann", "/x?q=%5C",
	} {
		if got := LocalPath(next, "FALLBACK"); got != next {
			t.Errorf("LocalPath(%q) = %q, want it kept", next, got)
		}
	}
	for _, next := range []string{
		"", "evil.example", "//evil.example", "///evil.example", `/\evil.example`, `\/evil.example`, `\\evil`,
		"/%5Cevil.example", "/%5cevil", "/%255Cevil", "/%25255Cevil", "/%2F%2Fevil", "/%2f/evil", "/%252F%252Fevil",
		"/\t/evil", "/%09/evil", "/\n/evil", "/\r\n", "/%0d%0a", "/ok%0d%0aSet-Cookie:x", "/%00", "/\x00",
		" /evil", "\t/evil", "/ /evil", "/%20/evil", "/\u3000/evil", "/%E3%80%80/evil", "/\xff", "/%ff/evil",
		"https://evil.example", "HTTP://evil", "http:/evil", "http:evil", "javascript:alert(1)", "data:,x",
		"/a\\b", "/%", "/%zz", "/ok\x7f",
	} {
		if got := LocalPath(next, "FALLBACK"); got != "FALLBACK" {
			t.Errorf("LocalPath(%q) = %q, want the fallback", next, got)
		}
	}
}

// browserHost is the host a browser on https://site.example/base lands on
// for a Location of loc: tabs and newlines dropped, backslashes read as
// slashes, surrounding spaces and controls trimmed.
func browserHost(loc string) string {
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(loc)
	ref, err := url.Parse(loc)
	if err != nil {
		return "site.example" // not followed at all
	}
	base, _ := url.Parse("https://site.example/base")
	return base.ResolveReference(ref).Host
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/a?b#c", "//x", `/\x`, "/%5Cx", "/%09/x", "/%2525%32%46x", "https://x", "/\u3000x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := LocalPath(next, "/")
		if got != next && got != "/" {
			t.Fatalf("LocalPath(%q) = %q: neither the input nor the fallback", next, got)
		}
		// Whatever is kept stays on the site, however often it is decoded.
		for s, i := got, 0; i < 8; i++ {
			if h := browserHost(s); h != "site.example" {
				t.Fatalf("LocalPath(%q) kept it, and decoded %d times it leads to %q", next, i, h)
			}
			d, err := url.PathUnescape(s)
			if err != nil || d == s {
				break
			}
			s = d
		}
	})
}
