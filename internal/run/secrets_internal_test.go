package run

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder keeps each write it gets, so a test sees what was passed on
// when.
type recorder struct {
	bytes.Buffer
	writes int
}

func (r *recorder) Write(p []byte) (int, error) {
	r.writes++
	return r.Buffer.Write(p)
}

// streamed masks text written in the given pieces, then flushed.
func streamed(t testing.TB, m *masker, pieces ...string) string {
	t.Helper()
	var out recorder
	w := m.Writer(&out)
	for _, p := range pieces {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("write %q: %d, %v", p, n, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestMaskEverySplitPoint(t *testing.T) {
	m := newMasker([]string{"PASSWORD=hunter2"})
	text := "the password is hunter2, again hunter2."
	want := "the password is ********, again ********."
	if got := m.String(text); got != want {
		t.Fatalf("whole: %q", got)
	}
	for i := 0; i <= len(text); i++ {
		if got := streamed(t, m, text[:i], text[i:]); got != want {
			t.Fatalf("split at %d: %q", i, got)
		}
		for j := i; j <= len(text); j++ {
			if got := streamed(t, m, text[:i], text[i:j], text[j:]); got != want {
				t.Fatalf("split at %d and %d: %q", i, j, got)
			}
		}
	}
}

func TestMaskValueLongerThanEachWrite(t *testing.T) {
	m := newMasker([]string{"KEY=sk-live-0123456789abcdef"})
	text := "key: sk-live-0123456789abcdef\n"
	pieces := strings.Split(text, "") // a byte at a time
	if got := streamed(t, m, pieces...); got != "key: ********\n" {
		t.Fatalf("byte by byte: %q", got)
	}
}

// The start of a value waits, whatever pause follows, until the next
// bytes rule it out or the stream ends; everything else passes at once.
func TestMaskHoldsOnlyWhatCouldBeAValue(t *testing.T) {
	m := newMasker([]string{"A=hunter2"})
	var out recorder
	w := m.Writer(&out)
	write := func(s, want string) {
		t.Helper()
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("after %q: passed %q, want %q", s, out.String(), want)
		}
	}
	write("ready\n", "ready\n")
	write("hun", "ready\n")
	write("ter2", "ready\n********")
	write(" huh", "ready\n******** hu") // only the last "h" could begin a value
	write("t", "ready\n******** huht")
	write(" hunt", "ready\n******** huht ")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != "ready\n******** huht hunt" {
		t.Fatalf("after flush: %q", out.String())
	}
	if err := w.Flush(); err != nil || out.String() != "ready\n******** huht hunt" {
		t.Fatalf("second flush: %q, %v", out.String(), err)
	}
}

func TestMaskOverlappingValues(t *testing.T) {
	m := newMasker([]string{"A=abcdef", "B=defghi", "C=zzzz"})
	cases := map[string]string{
		"x abcdefghi y":     "x ******** y", // overlapping: one mask, no part of either shown
		"abcdefdefghi":      "****************",
		"zzzzzz":            "********", // a value overlapping itself
		"abcde defgh zzz":   "abcde defgh zzz",
		"abcdefghidefghi.":  "****************.", // side by side, not overlapping: two
		"zzzzabcdef":        "****************",
		"..abcdefghizzzzz.": "..****************.",
	}
	for in, want := range cases {
		for i := 0; i <= len(in); i++ {
			if got := streamed(t, m, in[:i], in[i:]); got != want {
				t.Fatalf("%q split at %d: %q, want %q", in, i, got, want)
			}
		}
	}
}

func TestMaskValueForms(t *testing.T) {
	pem := "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nAQEFAASCBKcwggSjAgEAAoIB\n-----END KEY-----\n"
	m := newMasker([]string{"PEM=" + pem, "SHORT=abc", "SPACED=  tok-42  ", "EMPTY="})
	cases := map[string]string{
		// As a terminal prints it: every "\n" a "\r\n".
		strings.ReplaceAll(pem, "\n", "\r\n"): "********\r\n",
		// A line at a time, indented.
		"  MIIEvQIBADANBgkqhkiG9w0B\n": "  ********\n",
		// Too short to mask without blanking ordinary text.
		"abc": "abc",
		// Surrounding spaces are not part of what is matched.
		"[tok-42]": "[********]",
	}
	for in, want := range cases {
		if got := m.String(in); got != want {
			t.Fatalf("%q: %q, want %q", in, got, want)
		}
	}
	if newMasker([]string{"A=abc", "B=", "PORT=80"}) != nil {
		t.Fatal("a masker with nothing to mask")
	}
}

func TestMaskWithoutSecretsPassesThrough(t *testing.T) {
	var m *masker
	var out recorder
	w := m.Writer(&out)
	_, _ = w.Write([]byte("hunter2"))
	if out.String() != "hunter2" || out.writes != 1 || m.String("x") != "x" {
		t.Fatalf("passed %q in %d writes", out.String(), out.writes)
	}
}

// FuzzMask: whatever the values and however the output is cut into
// writes, the masked stream shows no value and equals the whole text
// masked at once; with no values it is the input unchanged.
func FuzzMask(f *testing.F) {
	f.Add("hunter2", "abcdef", "the password is hunter2", uint8(3), uint8(9))
	f.Add("aaaa", "aab", "aaaaaaabaaaab", uint8(1), uint8(2))
	f.Add("abcdef", "defghi", "abcdefghi", uint8(4), uint8(5))
	f.Add("", "", "plain output\r\n", uint8(0), uint8(7))
	f.Fuzz(func(t *testing.T, a, b, text string, cut1, cut2 uint8) {
		if strings.ContainsRune(a+b, '*') {
			return // a value made of the mask would match the mask itself
		}
		m := newMasker([]string{"A=" + a, "B=" + b})
		i := min(int(cut1), len(text))
		j := min(i+int(cut2), len(text))
		got := streamed(t, m, text[:i], text[i:j], text[j:])
		if whole := m.String(text); got != whole {
			t.Fatalf("streamed %q, whole %q", got, whole)
		}
		if m == nil {
			if got != text {
				t.Fatalf("no values, yet %q became %q", text, got)
			}
			return
		}
		for _, v := range m.values {
			if bytes.Contains([]byte(got), v) {
				t.Fatalf("%q shows %q", got, v)
			}
		}
	})
}

// syncBuffer is a bytes.Buffer that the idle flush may write from its timer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMaskIdleFlush is a shell's echo: a typed letter that could begin a
// secret shows after a moment, not at the next keystroke.
func TestMaskIdleFlush(t *testing.T) {
	var out syncBuffer
	w := newMasker([]string{"API_KEY=hunter2"}).Writer(&out)
	w.idle = 10 * time.Millisecond
	_, _ = w.Write([]byte("$ h"))
	if got := out.String(); got != "$ " {
		t.Fatalf("before the pause: %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "$ h" {
		if time.Now().After(deadline) {
			t.Fatalf("held echo never shown: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, _ = w.Write([]byte("unter2\n"))
	_ = w.Flush()
	if got := out.String(); got != "$ hunter2\n" {
		t.Fatalf("after the rest: %q", got)
	}
}
