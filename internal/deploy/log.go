package deploy

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// maxLog bounds a release's build log: its first MiB is kept.
const maxLog = 1 << 20

// maxExecLog bounds the output kept of one scheduled run: runs are many.
const maxExecLog = 256 << 10

// buildLog is the log of a build in progress: appended to by the build,
// read from any offset by those who follow it.
type buildLog struct {
	mu      sync.Mutex
	max     int // bytes kept
	text    []byte
	full    bool
	ended   bool
	changed chan struct{} // closed and replaced at each append
}

func newBuildLog() *buildLog { return newLog(maxLog) }

func newLog(max int) *buildLog { return &buildLog{max: max, changed: make(chan struct{})} }

// Write appends p, as far as the bound allows. Carriage returns become
// line breaks: the log is read as lines.
func (l *buildLog) Write(p []byte) (int, error) {
	s := strings.ReplaceAll(strings.ReplaceAll(string(p), "\r\n", "\n"), "\r", "\n")
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full || l.ended {
		return len(p), nil
	}
	if room := l.max - len(l.text); len(s) > room {
		s = strings.ToValidUTF8(s[:room], "") + fmt.Sprintf("\n[the log is cut here: its first %d KiB are kept]\n", l.max>>10)
		l.full = true
	}
	l.text = append(l.text, s...)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

// end marks the log finished and wakes its readers.
func (l *buildLog) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ended {
		l.ended = true
		close(l.changed)
	}
}

func (l *buildLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.text)
}

// next waits until the log holds more than from bytes or has ended, and
// returns what follows from; ended reports that nothing more will come.
func (l *buildLog) next(ctx context.Context, from int) (chunk string, ended bool, err error) {
	for {
		l.mu.Lock()
		text, done, ch := l.text, l.ended, l.changed
		l.mu.Unlock()
		if len(text) > from || done {
			return string(text[from:]), done, nil
		}
		select {
		case <-ctx.Done():
			return "", false, ctx.Err()
		case <-ch:
		}
	}
}

// wait returns once the log has ended, or ctx has.
func (l *buildLog) wait(ctx context.Context) error {
	for {
		l.mu.Lock()
		done, ch := l.ended, l.changed
		l.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
