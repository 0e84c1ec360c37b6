package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// release is what deploy uses of a release; raw keeps the API's object
// whole for --json.
type release struct {
	ID     string  `json:"id"`
	Number int     `json:"number"`
	Status string  `json:"status"` // queued, building, ready, failed
	Error  *string `json:"error"`
	raw    json.RawMessage
}

func (r *release) UnmarshalJSON(b []byte) error {
	type plain release
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	r.raw = append(json.RawMessage(nil), b...)
	return nil
}

func (r release) MarshalJSON() ([]byte, error) {
	if r.raw == nil {
		return []byte("null"), nil
	}
	return r.raw, nil
}

var deployTypes = []string{"static", "autoscale", "vm", "scheduled"}

func (a *app) deployCmd() *cobra.Command {
	var ref, target string
	var noWait bool
	c := &cobra.Command{
		Use:   "deploy [-p PROJECT] [--type static|autoscale|vm|scheduled] [--no-wait]",
		Short: "Deploy a project and follow its build",
		Long: `Deploy the project: the server checkpoints its files, builds them in a fresh
sandbox and, when the build succeeds, makes the release live. The build's
output is shown on stderr as it comes, with a line that says how far the
release is (queued, building, starting, ready) on a terminal; at the end
the deployment's address is printed on stdout.

--type first sets the deployment type in ecode.toml's [deployment] table
(the other settings are kept). --no-wait prints the queued release and
returns at once. Ctrl-C while it builds cancels the release; the live one
stays as it was. A failed build exits with 1.`,
		Example: `  ecode deploy
  ecode deploy -p alice/blog --type static
  ecode deploy --type autoscale --no-wait
  open "$(ecode deploy)"`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, p, err := a.project(ctx, ref, ".")
			if err != nil {
				return err
			}
			if target != "" {
				if err := setDeployType(ctx, c, p, target); err != nil {
					return err
				}
			}
			var out struct{ Release *release }
			if err := c.JSON(ctx, "POST", projectPath(p.ID, "/deployments"), struct{}{}, &out); err != nil {
				return err
			}
			rel := out.Release
			if noWait {
				if a.json {
					return a.printJSON(rel)
				}
				fmt.Fprintf(a.env.Stdout, "Release #%d of %s is %s (id %s)\n", rel.Number, p.ref(), rel.Status, rel.ID)
				return nil
			}
			return a.followRelease(ctx, c, p, rel)
		},
	}
	a.projectFlag(c, &ref)
	c.Flags().StringVar(&target, "type", "", "set the deployment type first: "+strings.Join(deployTypes, ", "))
	_ = c.RegisterFlagCompletionFunc("type", cobra.FixedCompletions(deployTypes, cobra.ShellCompDirectiveNoFileComp))
	c.Flags().BoolVar(&noWait, "no-wait", false, "print the queued release and return without following its build")
	return c
}

// setDeployType writes target into the project's deployment settings,
// sending the rest back as the server has them.
func setDeployType(ctx context.Context, c *Client, p *project, target string) error {
	var got struct {
		Config      map[string]any
		ConfigError *string
	}
	if err := c.JSON(ctx, "GET", projectPath(p.ID, "/deployment"), nil, &got); err != nil {
		return err
	}
	if got.Config == nil {
		msg := "unknown reason"
		if got.ConfigError != nil {
			msg = *got.ConfigError
		}
		return fmt.Errorf("the deployment settings cannot be changed while ecode.toml's are not valid: %s", msg)
	}
	got.Config["target"] = target
	return c.JSON(ctx, "PUT", projectPath(p.ID, "/deployment/config"), got.Config, nil)
}

// followRelease shows rel's build log until the release ends, then prints
// where it is served; Ctrl-C cancels it.
func (a *app) followRelease(ctx context.Context, c *Client, p *project, rel *release) error {
	start := time.Now()
	fmt.Fprintf(a.env.Stderr, "Deploying %s: release #%d\n", p.ref(), rel.Number)
	prog := newProgress(a.env.Stderr, isTerminal(a.env.Stderr), rel, start)
	final, err := followLog(ctx, c, p.ID, rel.ID, prog)
	prog.stop()
	if ctx.Err() != nil {
		return a.cancelRelease(ctx, c, p, rel)
	}
	if err != nil {
		return err
	}
	deployURL := ""
	if final.Status == "ready" {
		var d struct{ Deployment *struct{ URL string } }
		if err := c.JSON(ctx, "GET", projectPath(p.ID, "/deployment"), nil, &d); err != nil {
			return err
		}
		if d.Deployment != nil {
			deployURL = d.Deployment.URL
		}
	}
	if a.json {
		if err := a.printJSON(map[string]any{"release": final, "url": deployURL}); err != nil {
			return err
		}
	}
	if final.Status != "ready" {
		why := "no reason given"
		if final.Error != nil {
			why = *final.Error
		}
		return &exitError{code: ExitFailure, err: fmt.Errorf("release #%d failed: %s", final.Number, why)}
	}
	fmt.Fprintf(a.env.Stderr, "Release #%d is live (%ds)\n", final.Number, int(time.Since(start).Seconds()))
	if !a.json && deployURL != "" {
		fmt.Fprintln(a.env.Stdout, deployURL)
	}
	return nil
}

// cancelRelease cancels rel after Ctrl-C, which has ended ctx.
func (a *app) cancelRelease(ctx context.Context, c *Client, p *project, rel *release) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	err := c.JSON(cctx, "POST", projectPath(p.ID, "/releases/"+url.PathEscape(rel.ID)+"/cancel"), nil, nil)
	switch {
	case isStatus(err, http.StatusConflict):
		fmt.Fprintf(a.env.Stderr, "Release #%d had already ended; nothing was cancelled.\n", rel.Number)
	case err != nil:
		return &exitError{code: ExitInterrupted, err: fmt.Errorf("cancel release #%d: %w", rel.Number, err)}
	default:
		fmt.Fprintln(a.env.Stderr, "Cancelled.")
	}
	return &exitError{code: ExitInterrupted}
}

// followLog reads the release's log events into prog and returns the
// release as it ended.
func followLog(ctx context.Context, c *Client, projectID, releaseID string, prog *progress) (*release, error) {
	var final *release
	err := c.Events(ctx, projectPath(projectID, "/releases/"+url.PathEscape(releaseID)+"/log"), func(event, data string) error {
		switch event {
		case "log":
			prog.log(data)
		case "status":
			final = new(release)
			if err := json.Unmarshal([]byte(data), final); err != nil {
				return fmt.Errorf("decode the release's status: %w", err)
			}
		}
		return nil
	})
	prog.flush()
	if err != nil {
		return nil, fmt.Errorf("follow the build log: %w", err)
	}
	if final == nil {
		return nil, errors.New("the build log ended before the release did; see the project's Deployments pane")
	}
	return final, nil
}

// The phases a release goes through, as the progress line names them.
var phases = []string{"queued", "building", "starting", "ready"}

// progress writes a release's build output line by line and, on a
// terminal, keeps one line below it that says how far the release is,
// redrawn in place.
type progress struct {
	w      io.Writer
	tty    bool
	number int
	start  time.Time

	mu      sync.Mutex
	phase   string
	partial string // the output's last line, until it ends
	frame   int

	done chan struct{}
	wg   sync.WaitGroup
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func newProgress(w io.Writer, tty bool, rel *release, start time.Time) *progress {
	p := &progress{w: w, tty: tty, number: rel.Number, start: start, phase: rel.Status, done: make(chan struct{})}
	if !tty {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			p.mu.Lock()
			p.draw()
			p.frame++
			p.mu.Unlock()
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

// log writes the complete lines of chunk, keeping its unfinished last
// line for later; the output says when the release is being started.
func (p *progress) log(chunk string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.phase == "queued" {
		p.phase = "building"
	}
	text := p.partial + chunk
	end := strings.LastIndexByte(text, '\n') + 1
	p.partial = text[end:]
	if end == 0 {
		return
	}
	for line := range strings.SplitSeq(text[:end], "\n") {
		if strings.HasPrefix(line, "Release in place") {
			p.phase = "starting"
		}
	}
	p.clear()
	io.WriteString(p.w, text[:end])
	p.draw()
}

// flush writes the output's unfinished last line, if any.
func (p *progress) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.partial != "" {
		p.clear()
		io.WriteString(p.w, p.partial+"\n")
		p.partial = ""
		p.draw()
	}
}

// stop ends the redrawing and erases the progress line.
func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.tty = false // nothing is drawn from now on
}

// draw writes the progress line over the current one; p.mu is held.
func (p *progress) draw() {
	if !p.tty {
		return
	}
	step := 1
	for i, ph := range phases {
		if ph == p.phase {
			step = i + 1
		}
	}
	bar := strings.Repeat("■", step) + strings.Repeat("□", len(phases)-step)
	fmt.Fprintf(p.w, "\r\x1b[K%s release #%d %s %s %ds", spinner[p.frame%len(spinner)], p.number, bar, p.phase,
		int(time.Since(p.start).Seconds()))
}

// clear erases the progress line; p.mu is held.
func (p *progress) clear() {
	if p.tty {
		io.WriteString(p.w, "\r\x1b[K")
	}
}
