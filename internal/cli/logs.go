package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) logsCmd() *cobra.Command {
	var (
		ref, source, text string
		follow            bool
		limit             int
	)
	c := &cobra.Command{
		Use:   "logs [-p PROJECT] [-f] [--source app|edge|platform|all] [-q TEXT] [-n N]",
		Short: "Print a deployment's runtime log",
		Long: `Print the runtime log of the project's deployment: what its app printed
(app), the requests its edge served (edge) and what the platform did with its
instances (platform), oldest first. Each line shows the time, the source, the
instance ("-" for none) and the text; --json prints each line as the API's
object, one per line (JSON lines).

--source app includes the platform's lines, as the web UI does. With -f it
goes on printing lines as they come until Ctrl-C, which exits 130 as
ecode run does.`,
		Example: `  ecode logs -p alice/api
  ecode logs --source edge -q ' 500 ' -n 50
  ecode logs -f --json | jq -r .text`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch source {
			case "app", "edge", "platform", "all":
			default:
				return usageErrorf("--source is app, edge, platform or all, not %q", source)
			}
			if limit < 1 || limit > 1000 {
				return usageErrorf("-n is between 1 and 1000")
			}
			ctx := cmd.Context()
			c, p, err := a.project(ctx, ref, ".")
			if err != nil {
				return err
			}
			q := url.Values{"source": {source}, "limit": {strconv.Itoa(limit)}}
			if text != "" {
				q.Set("q", text)
			}
			path := projectPath(p.ID, "/deployment/logs?"+q.Encode())
			if follow {
				err := a.followLogs(ctx, c, path)
				if ctx.Err() != nil {
					return &exitError{code: ExitInterrupted}
				}
				return err
			}
			var out struct{ Lines []json.RawMessage }
			if err := c.JSON(ctx, "GET", path, nil, &out); err != nil {
				return err
			}
			for _, raw := range out.Lines {
				if err := a.printLogLine(raw); err != nil {
					return err
				}
			}
			if len(out.Lines) == 0 && !a.json {
				fmt.Fprintln(a.env.Stderr, "No log lines (yet): the log holds what a live deployment did since the server started.")
			}
			return nil
		},
	}
	a.projectFlag(c, &ref)
	c.Flags().BoolVarP(&follow, "follow", "f", false, "print new lines as they come, until Ctrl-C")
	c.Flags().StringVar(&source, "source", "all", "which lines: app, edge, platform or all")
	c.Flags().StringVarP(&text, "query", "q", "", "only lines holding this text (any case)")
	c.Flags().IntVarP(&limit, "lines", "n", 200, "print at most the last N lines (1 to 1000), before following")
	return c
}

// runtimeLine is a line of a deployment's log, as the API gives it.
type runtimeLine struct {
	T        int64   `json:"t"` // unix ms
	Source   string  `json:"source"`
	Instance *string `json:"instance"`
	Text     string  `json:"text"`
}

// printLogLine prints one line of the log, raw (the API's object), for
// people or as a JSON line.
func (a *app) printLogLine(raw json.RawMessage) error {
	if a.json {
		_, err := fmt.Fprintf(a.env.Stdout, "%s\n", raw)
		return err
	}
	var l runtimeLine
	if err := json.Unmarshal(raw, &l); err != nil {
		return fmt.Errorf("decode a log line: %w", err)
	}
	instance := "-"
	if l.Instance != nil && *l.Instance != "" {
		instance = *l.Instance
	}
	// The text is the app's own output: no escape sequence of it reaches
	// the terminal.
	_, err := fmt.Fprintf(a.env.Stdout, "%s  %-8s  %s  %s\n", time.UnixMilli(l.T).Format("2006-01-02 15:04:05.000"),
		l.Source, oneLine(instance), oneLine(l.Text))
	return err
}

// followLogs prints the log's last lines, then each new one, until ctx
// ends or the server ends the stream.
func (a *app) followLogs(ctx context.Context, c *Client, path string) error {
	err := c.Events(ctx, path, func(event, data string) error {
		if event != "line" {
			return nil
		}
		return a.printLogLine(json.RawMessage(data))
	})
	if err != nil {
		return fmt.Errorf("follow the log: %w", err)
	}
	return fmt.Errorf("follow the log: the server ended the stream")
}
