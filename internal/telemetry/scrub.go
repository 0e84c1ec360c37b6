package telemetry

import (
	"crypto/sha1"
	"encoding/hex"
	"regexp"
	"strings"
)

// What the platform keeps of a page is stripped of what usually identifies a
// person: query strings and fragments (tokens, emails, search terms),
// emails, long digit runs (cards, phone numbers) and credentials.
var (
	reEmail  = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
	reDigits = regexp.MustCompile(`\d(?:[ -]?\d){8,}`)
	reBearer = regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`)
	reSecret = regexp.MustCompile(`(?i)\b(token|access_token|api_key|apikey|password|secret)=[^&\s"']+`)
)

// scrub replaces emails, long numbers and credentials in s. Each pattern
// runs only when a character it needs is there: most strings have none,
// and ingest scrubs every URL.
func scrub(s string) string {
	if strings.Contains(s, "earer") || strings.Contains(s, "EARER") {
		s = reBearer.ReplaceAllString(s, "Bearer [redacted]")
	}
	if strings.IndexByte(s, '=') >= 0 {
		s = reSecret.ReplaceAllString(s, "$1=[redacted]")
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = reEmail.ReplaceAllString(s, "[email]")
	}
	digits := 0
	for i := 0; i < len(s) && digits < 9; i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits++
		}
	}
	if digits == 9 {
		s = reDigits.ReplaceAllString(s, "[number]")
	}
	return s
}

// scrubURL drops a URL's query string and fragment, then scrubs the rest.
func scrubURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	return scrub(u)
}

// What differs between occurrences of one error is normalised away before
// fingerprinting: values in the message, line and column numbers in frames.
var (
	reQuoted = regexp.MustCompile("\"[^\"]*\"|'[^']*'|`[^`]*`")
	reUUID   = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	reHex    = regexp.MustCompile(`(?i)\b0x[0-9a-f]+\b|\b[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*\b|\b[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*\b`)
	reNumber = regexp.MustCompile(`\d+(\.\d+)?`)
	// A frame: Chrome's "at fn (file:1:2)" or "at file:1:2", Firefox and
	// Safari's "fn@file:1:2"; the capture is the frame without position.
	reFrame = regexp.MustCompile(`^\s*(?:at\s+)?(.*?)(?::\d+){1,2}\)?\s*$`)
	reQuery = regexp.MustCompile(`\?[^\s)@]*`)
)

// fingerprint groups occurrences of one error: its name, its message with
// values normalised, and its top three frames without line and column.
func fingerprint(name, message, stack string) string {
	m := reQuoted.ReplaceAllString(message, "<str>")
	m = reUUID.ReplaceAllString(m, "<uuid>")
	m = reHex.ReplaceAllString(m, "<hex>")
	m = reNumber.ReplaceAllString(m, "<n>")
	h := sha1.New()
	h.Write([]byte(name + "\n" + m + "\n"))
	frames := 0
	for line := range strings.Lines(stack) {
		if frames == 3 {
			break
		}
		f := reFrame.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
		if f == nil {
			continue // the "Name: message" line, or a frame without position
		}
		h.Write([]byte(reQuery.ReplaceAllString(f[1], "") + "\n"))
		frames++
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// browser names the browser behind a User-Agent and its major version,
// roughly: enough to tell whether an error happens in one browser only.
func browser(ua string) string {
	for _, b := range [...]struct{ token, version, name string }{
		{"Edg/", "Edg/", "Edge"}, {"OPR/", "OPR/", "Opera"}, {"Firefox/", "Firefox/", "Firefox"},
		{"Chrome/", "Chrome/", "Chrome"}, {"Safari/", "Version/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			return strings.TrimSpace(b.name + " " + major(ua, b.version))
		}
	}
	return "Other"
}

func major(ua, token string) string {
	i := strings.Index(ua, token)
	if i < 0 {
		return ""
	}
	v := ua[i+len(token):]
	if j := strings.IndexAny(v, ". ;)"); j >= 0 {
		v = v[:j]
	}
	return v
}
