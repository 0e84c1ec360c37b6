package collab

import "testing"

func TestLineEnding(t *testing.T) {
	for _, tc := range []struct{ file, want, text string }{
		{"", "\n", ""},
		{"one line", "\n", "one line"},
		{"a\nb\n", "\n", "a\nb\n"},
		{"a\r\nb\r\n", "\r\n", "a\nb\n"},
		{"a\rb\rc", "\r", "a\nb\nc"},
		{"a\r\nb\r\nc\nd\r\n", "\r\n", "a\nb\nc\nd\n"}, // mixed: the majority
		{"a\nb\nc\r\nd\n", "\n", "a\nb\nc\nd\n"},
		{"a\nb\r\n", "\n", "a\nb\n"},   // a tie: the first
		{"a\r\nb\n", "\r\n", "a\nb\n"}, // a tie: the first
		{"a\r\r\nb", "\r", "a\n\nb"},   // "\r" then "\r\n": two breaks, the first wins the tie
		{"\n\r", "\n", "\n\n"},         // "\n" then "\r", not one "\r\n"
	} {
		if got := lineEnding(tc.file, "\n"); got != tc.want {
			t.Errorf("lineEnding(%q) = %q, want %q", tc.file, got, tc.want)
		}
		if got := toLF(tc.file); got != tc.text {
			t.Errorf("toLF(%q) = %q, want %q", tc.file, got, tc.text)
		}
	}
	if got := lineEnding("no breaks", "\r\n"); got != "\r\n" {
		t.Errorf("a text without breaks took %q, not the fallback", got)
	}
	if got := fromLF("a\nb\n", "\r\n"); got != "a\r\nb\r\n" {
		t.Errorf("fromLF: %q", got)
	}
}
