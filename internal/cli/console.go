package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) runCmd() *cobra.Command {
	var ref string
	c := &cobra.Command{
		Use:   "run [-p PROJECT]",
		Short: "Run a project and stream its output",
		Long: `Start the project's run, as the workspace's Run button does (install and
build when needed, then the run command of ecode.toml; a run already going is
stopped first), print its output as it comes, and exit with the program's
exit code once it ends.

When the program listens on a port, its preview address is printed to
stderr. Ctrl-C stops the run and exits 130. With --json the output goes to
stderr, and the run as the API shows it (id, status, exitCode, previewUrl,
...) to stdout at the end.`,
		Example: `  ecode run -p alice/blog
  ecode run --json 2>/dev/null | jq .exitCode`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.project(cmd.Context(), ref, ".")
			if err != nil {
				return err
			}
			return a.startRun(cmd.Context(), c, projectPath(p.ID, ""))
		},
	}
	a.projectFlag(c, &ref)
	return c
}

// consoleRun is what the command reads of a run.
type consoleRun struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	ExitCode   *int    `json:"exitCode"`
	PreviewURL *string `json:"previewUrl"`
	Error      string  `json:"error"`
}

// going reports whether the run has not ended yet.
func (r *consoleRun) going() bool {
	switch r.Status {
	case "starting", "building", "running":
		return true
	}
	return false
}

// getConsoleRun reads a run; raw is the API's object whole, for --json.
func getConsoleRun(ctx context.Context, c *Client, path string) (consoleRun, json.RawMessage, error) {
	var out struct{ Run json.RawMessage }
	var v consoleRun
	if err := c.JSON(ctx, "GET", path, nil, &out); err != nil {
		return v, nil, err
	}
	if err := json.Unmarshal(out.Run, &v); err != nil {
		return v, nil, fmt.Errorf("decode the run: %w", err)
	}
	return v, out.Run, nil
}

// startRun starts the run of the project at base (its API path) and follows
// it to its end.
func (a *app) startRun(ctx context.Context, c *Client, base string) error {
	var started struct{ Run consoleRun }
	if err := c.JSON(ctx, "POST", base+"/run", nil, &started); err != nil {
		return err
	}
	runPath := base + "/runs/" + url.PathEscape(started.Run.ID)
	out := a.env.Stdout
	if a.json {
		out = a.env.Stderr
	}
	var wg sync.WaitGroup
	watch, stopWatch := context.WithCancel(ctx)
	if !a.json { // --json has the address in its run object
		wg.Go(func() { a.announcePreview(watch, c, runPath) })
	}
	err := a.followOutput(ctx, c, runPath, out)
	stopWatch()
	wg.Wait()
	if ctx.Err() != nil {
		return a.interrupted(ctx, c, base+"/stop", "the run")
	}
	if err != nil {
		return err
	}
	r, raw, err := getConsoleRun(ctx, c, runPath)
	if err != nil {
		return err
	}
	if a.json {
		if err := a.printJSON(raw); err != nil {
			return err
		}
	}
	switch {
	case r.ExitCode != nil:
		return exitWith(*r.ExitCode, "the program was killed")
	case r.Status == "stopped":
		return &exitError{code: ExitFailure, err: errors.New("the run was stopped")}
	case r.Status != "exited":
		return &exitError{code: ExitFailure} // the output ends with why
	}
	return nil
}

// interrupted ends a command that Ctrl-C cut short: what it started and
// followed must not go on unwatched, so it is stopped (POST stopPath),
// and the command exits 130.
func (a *app) interrupted(ctx context.Context, c *Client, stopPath, what string) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := c.JSON(sctx, "POST", stopPath, nil, nil); err != nil {
		return fmt.Errorf("stop %s: %w", what, err)
	}
	fmt.Fprintln(a.env.Stderr, "Stopped.")
	return &exitError{code: ExitInterrupted}
}

// exitWith is how a command ends for a program's exit code: other codes
// than 0 pass through, quietly (the program had its say), and one no
// process exits with (a kill) is a failure, said in why.
func exitWith(code int, why string) error {
	switch {
	case code == 0:
		return nil
	case code < 0 || code > 255:
		return &exitError{code: ExitFailure, err: errors.New(why)}
	}
	return &exitError{code: code}
}

// followOutput copies the run's output to w until it ends. The server ends
// a stream that falls behind, as it ends one at the run's end: a stream
// is opened again, from the start, skipping what w already has, while the
// run goes and once more after.
func (a *app) followOutput(ctx context.Context, c *Client, runPath string, w io.Writer) error {
	o := &onceWriter{w: w, warn: func() {
		fmt.Fprintln(a.env.Stderr, skippedOutput)
	}}
	ended := false
	for pause := 50 * time.Millisecond; ; pause = min(2*pause, 2*time.Second) {
		res, err := c.Do(ctx, "GET", runPath+"/output", nil, "")
		if err != nil {
			return err
		}
		before := o.written
		o.restart()
		_, err = io.Copy(o, res.Body)
		res.Body.Close()
		if err != nil {
			return fmt.Errorf("read the output: %w", err)
		}
		if ended {
			return nil
		}
		r, _, err := getConsoleRun(ctx, c, runPath)
		if err != nil {
			return err
		}
		if !r.going() {
			ended = true
			continue
		}
		if o.written > before {
			pause = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// skippedOutput is said when a stream fell behind and the server had
// no longer kept what it missed.
const skippedOutput = "ecode: the output came faster than it was read; some of it was skipped"

// tailLen is how much of the output lines a new stream up with what was
// written.
const tailLen = 256

// onceWriter writes a run's output once across the streams of it, each of
// which starts from the beginning of what the server kept.
type onceWriter struct {
	w       io.Writer
	warn    func() // a new stream did not line up: the server kept less than was missed
	written int
	tail    []byte // the last bytes written
	skip    int    // bytes of this stream still to skip
	skipped []byte // the last bytes skipped
}

func (o *onceWriter) restart() { o.skip, o.skipped = o.written, o.skipped[:0] }

func (o *onceWriter) Write(p []byte) (int, error) {
	n := len(p)
	if o.skip > 0 {
		k := min(o.skip, len(p))
		o.skipped = lastBytes(append(o.skipped, p[:k]...), tailLen)
		o.skip -= k
		p = p[k:]
		if o.skip == 0 && !bytes.Equal(o.skipped, o.tail) {
			o.warn()
		}
	}
	if len(p) == 0 {
		return n, nil
	}
	if _, err := o.w.Write(p); err != nil {
		return 0, err
	}
	o.written += len(p)
	o.tail = lastBytes(append(o.tail, p...), tailLen)
	return n, nil
}

// lastBytes is b's last n bytes, kept in b's array.
func lastBytes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return append(b[:0], b[len(b)-n:]...)
}

// announcePreview prints the run's preview address to stderr once it has
// one, while it goes.
func (a *app) announcePreview(ctx context.Context, c *Client, runPath string) {
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		r, _, err := getConsoleRun(ctx, c, runPath)
		if err != nil || !r.going() {
			return
		}
		if r.PreviewURL != nil && *r.PreviewURL != "" {
			fmt.Fprintf(a.env.Stderr, "Preview: %s\n", *r.PreviewURL)
			return
		}
	}
}
