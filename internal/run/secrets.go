package run

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"ecode/internal/runtime"
)

// minMasked is the shortest secret value masked in output: shorter ones
// would blank out ordinary text wherever it happens to match.
const minMasked = 4

const mask = "********"

// secretEnv is the project's secrets as NAME=value for a command.
func (s *Service) secretEnv(ctx context.Context, projectID string) []string {
	if s.opts.Secrets == nil {
		return nil
	}
	env, err := s.opts.Secrets(ctx, projectID)
	if err != nil {
		slog.ErrorContext(ctx, "project secrets", "project_id", projectID, "err", err)
		return nil
	}
	return env
}

// masker hides secret values in output bound for a person: a run's
// console, a shell, a command's result, what the agent is shown. It is
// built from the environment a process was given, so it hides exactly the
// values that process holds, however they change meanwhile.
//
// Masking catches a value printed as it is, in any number of writes; it
// cannot catch one the program transforms (base64, reversed, a character
// per line). It guards against accidents, not against the code.
type masker struct {
	values  [][]byte
	fail    [][]int // KMP failure function of each value
	longest int
}

// newMasker returns the masker for the NAME=value pairs of env, or nil
// when no value is long enough to mask.
func newMasker(env []string) *masker {
	seen := map[string]bool{}
	m := &masker{}
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len(v) < minMasked || seen[v] {
			return
		}
		seen[v] = true
		m.values = append(m.values, []byte(v))
		m.fail = append(m.fail, failure([]byte(v)))
		m.longest = max(m.longest, len(v))
	}
	for _, kv := range env {
		_, v, _ := strings.Cut(kv, "=")
		add(v)
		if strings.Contains(v, "\n") {
			// A terminal prints "\n" as "\r\n", and a multi-line value
			// (a PEM key) is often printed a line at a time, indented or
			// quoted: each long enough line is masked on its own too.
			add(strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\n", "\r\n"))
			for line := range strings.Lines(v) {
				add(line)
			}
		}
	}
	if len(m.values) == 0 {
		return nil
	}
	return m
}

// failure is the KMP failure function of v: f[i] is the length of the
// longest proper prefix of v[:i+1] that is also its suffix.
func failure(v []byte) []int {
	f := make([]int, len(v))
	for i, k := 1, 0; i < len(v); i++ {
		for k > 0 && v[i] != v[k] {
			k = f[k-1]
		}
		if v[i] == v[k] {
			k++
		}
		f[i] = k
	}
	return f
}

type span struct{ from, to int }

// scan finds every occurrence of every value in buf, overlapping ones
// included, merged into spans where they overlap, sorted. It also returns
// where the longest suffix of buf that could begin a value starts
// (len(buf) when none could): bytes from there on must wait for more.
func (m *masker) scan(buf []byte) ([]span, int) {
	var found []span
	hold := len(buf)
	for vi, v := range m.values {
		if bytes.IndexByte(buf, v[0]) < 0 {
			continue // neither in buf nor begun at its end
		}
		f, k := m.fail[vi], 0
		for i, c := range buf {
			for k > 0 && c != v[k] {
				k = f[k-1]
			}
			if c == v[k] {
				k++
			}
			if k == len(v) {
				found = append(found, span{i + 1 - len(v), i + 1})
				k = f[k-1]
			}
		}
		hold = min(hold, len(buf)-k)
	}
	slices.SortFunc(found, func(a, b span) int { return a.from - b.from })
	var merged []span
	for _, s := range found {
		if n := len(merged); n > 0 && s.from < merged[n-1].to {
			merged[n-1].to = max(merged[n-1].to, s.to)
			continue
		}
		merged = append(merged, s)
	}
	return merged, hold
}

// String masks a whole text.
func (m *masker) String(s string) string {
	if m == nil {
		return s
	}
	var b strings.Builder
	w := m.Writer(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Flush()
	return b.String()
}

// Writer returns a writer that masks what it passes to dst. It masks the
// stream, not each write: a value split over writes is still masked, for
// it holds back the end of the output while that could begin a value,
// until later output shows it does not, or until Flush. Nothing else is
// held, so output stays live; a nil masker passes everything through.
func (m *masker) Writer(dst io.Writer) *maskWriter { return &maskWriter{m: m, dst: dst} }

// maskWriter is a stream masked by m. Its methods are safe for
// concurrent use.
type maskWriter struct {
	m   *masker
	dst io.Writer

	mu      sync.Mutex
	idle    time.Duration // when set, what is held is passed on after this long without output
	timer   *time.Timer
	pending []byte // written, not yet passed on: the start of what may be a value
	covered int    // pending[:covered] is the end of a value already masked
	inMask  bool   // the mask for pending[:covered] was already written
}

func (w *maskWriter) Write(p []byte) (int, error) {
	if w.m == nil {
		return w.dst.Write(p)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.pass(append(w.pending, p...), false); err != nil {
		return 0, err
	}
	if w.idle > 0 && len(w.pending) > 0 {
		if w.timer == nil {
			w.timer = time.AfterFunc(w.idle, func() { _ = w.Flush() })
		} else {
			w.timer.Reset(w.idle)
		}
	}
	return len(p), nil
}

// Flush passes on what was held back: the stream has ended, so what
// could have begun a value did not.
func (w *maskWriter) Flush() error {
	if w.m == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
	return w.pass(w.pending, true)
}

// pass writes buf, masked, up to where a value could still be under way
// (all of it when final) and keeps the rest pending.
func (w *maskWriter) pass(buf []byte, final bool) error {
	spans, cut := w.m.scan(buf)
	if w.covered > 0 {
		// What was masked before stays masked, with what overlaps it.
		head := span{0, w.covered}
		for len(spans) > 0 && spans[0].from < head.to {
			head.to = max(head.to, spans[0].to)
			spans = spans[1:]
		}
		spans = append([]span{head}, spans...)
	}
	if final {
		cut = len(buf)
	}
	if cut == 0 {
		w.pending = buf // all of it may yet be a value; what was masked stays so
		return nil
	}
	var out []byte
	at, covered, inMask := 0, 0, false
	for i, s := range spans {
		if s.from >= cut {
			break
		}
		out = append(out, buf[at:s.from]...)
		if !(i == 0 && s.from == 0 && w.inMask) {
			out = append(out, mask...)
		}
		at = min(s.to, cut)
		if s.to > cut { // a masked value runs on into what is held back
			covered, inMask = s.to-cut, true
		}
	}
	out = append(out, buf[at:cut]...)
	n := copy(buf, buf[cut:])
	w.pending, w.covered, w.inMask = buf[:n], covered, inMask
	if len(out) == 0 {
		return nil
	}
	_, err := w.dst.Write(out)
	return err
}

// maskedProcess masks a process's output with the values it was given.
type maskedProcess struct {
	runtime.Process
	m *masker
}

func (p maskedProcess) Wait(ctx context.Context, stdout, stderr io.Writer) (runtime.Exit, error) {
	ow := p.m.Writer(stdout)
	var ew *maskWriter
	if stderr != nil {
		ew = p.m.Writer(stderr)
		stderr = ew
	}
	e, err := p.Process.Wait(ctx, ow, stderr)
	_ = ow.Flush()
	if ew != nil {
		_ = ew.Flush()
	}
	return e, err
}
