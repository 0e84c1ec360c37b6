package telemetry

import (
	"regexp"
	"strings"
)

var (
	reNumeric = regexp.MustCompile(`^\d+$`)
	reUUIDSeg = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	reHexSeg  = regexp.MustCompile(`(?i)^[0-9a-f]{16,}$`)
	reToken   = regexp.MustCompile(`^[A-Za-z0-9_-]{20,}$`)
	reDigit   = regexp.MustCompile(`\d`)
)

// NormalizePath turns a request path into a route: segments that are ids
// (numbers, UUIDs, long hex, long tokens with digits) become ":id", so
// /items/42 and /items/43 count as one route. The query string is dropped.
func NormalizePath(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if reNumeric.MatchString(s) || reUUIDSeg.MatchString(s) || reHexSeg.MatchString(s) ||
			(reToken.MatchString(s) && reDigit.MatchString(s)) {
			segs[i] = ":id"
		}
	}
	return clip(strings.Join(segs, "/"), maxName)
}
