package collab

import "strings"

// Line endings. CodeMirror, as the web editor sets it up (its default
// lineSeparator), reads "\r\n", a lone "\r" and "\n" each as one line
// break and counts positions in a text whose breaks are "\n". The
// authority holds its text the same way, so positions agree, and writes
// the file back with the file's own ending:
//
//   - A file's ending is the one most of its line breaks use; a tie goes
//     to the one met first; a file without line breaks is "\n" (or keeps
//     the ending its document had, when it changes on disk).
//   - A file with mixed endings is written back with its majority ending
//     throughout once someone edits it, as desktop editors do; opening
//     it changes nothing on disk.
//   - Clients send line breaks as CodeMirror does, as separate lines of
//     a change: a "\r" inside a line is refused (ParseChangeSet), so the
//     text never holds one.
//
// The web editor's plain HTTP save (web/src/editor/documents.ts) follows
// the same rule.

// lineEnding returns the line ending most of s's line breaks use, or
// fallback when s has none.
func lineEnding(s string, fallback string) string {
	var crlf, lf, cr int
	first := ""
	for i := 0; i < len(s); i++ {
		var eol string
		switch {
		case s[i] == '\n':
			lf++
			eol = "\n"
		case s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n':
			crlf++
			eol = "\r\n"
			i++
		case s[i] == '\r':
			cr++
			eol = "\r"
		default:
			continue
		}
		if first == "" {
			first = eol
		}
	}
	count := map[string]int{"\r\n": crlf, "\n": lf, "\r": cr}
	best := first
	for _, eol := range []string{"\r\n", "\n", "\r"} {
		if count[eol] > count[best] {
			best = eol
		}
	}
	if best == "" {
		return fallback
	}
	return best
}

// toLF makes every line break of s "\n".
func toLF(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// fromLF writes s, whose line breaks are "\n", with eol.
func fromLF(s, eol string) string {
	if eol == "\n" {
		return s
	}
	return strings.ReplaceAll(s, "\n", eol)
}
