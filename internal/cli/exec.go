package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) execCmd() *cobra.Command {
	var ref string
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "exec [-p PROJECT] [--timeout D] -- CMD [ARGS...]",
		Short: "Run a command in a project's sandbox",
		Long: `Run a command in the project's sandbox, in the folder of its files, print
what it wrote to stdout and stderr, and exit with its exit code.

One argument is a shell command line (pipes, &&, globs work); several are a
program and its arguments, each passed as given. The output comes when the
command has finished (at most 1 MiB of each stream); the server stops it
after --timeout (30s unless set; at most 10m).`,
		Example: `  ecode exec -p alice/blog -- npm test
  ecode exec -- 'ls -la | head -n 5'
  ecode exec --json -- go version | jq .exitCode`,
		Args: args(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.project(cmd.Context(), ref, ".")
			if err != nil {
				return err
			}
			in := map[string]any{"command": shellLine(args), "timeoutSec": int((timeout + time.Second - 1) / time.Second)}
			var raw json.RawMessage
			if err := c.JSON(cmd.Context(), "POST", projectPath(p.ID, "/exec"), in, &raw); err != nil {
				return err
			}
			var res struct {
				ExitCode       int
				Stdout, Stderr string
				TimedOut       bool
			}
			if err := json.Unmarshal(raw, &res); err != nil {
				return fmt.Errorf("decode the command's result: %w", err)
			}
			if a.json {
				if err := a.printJSON(raw); err != nil {
					return err
				}
			} else {
				io.WriteString(a.env.Stdout, res.Stdout)
				io.WriteString(a.env.Stderr, res.Stderr)
				if res.TimedOut {
					fmt.Fprintln(a.env.Stderr, "ecode: the command was stopped at its time limit (see --timeout)")
				}
			}
			if res.ExitCode != 0 {
				return &exitError{code: res.ExitCode}
			}
			return nil
		},
	}
	// Flags after the command are the command's: exec -p x ls -la.
	c.Flags().SetInterspersed(false)
	a.projectFlag(c, &ref)
	c.Flags().DurationVar(&timeout, "timeout", 0, "stop the command after this long, such as 90s or 5m (default 30s)")
	return c
}

// shellLine is the shell command line args mean: one argument is a line
// already; several are quoted so each reaches the program as given.
func shellLine(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	quoted := make([]string, len(args))
	for i, s := range args {
		quoted[i] = shellQuote(s)
	}
	return strings.Join(quoted, " ")
}

// shellQuote quotes s for sh, leaving plain words as they are.
func shellQuote(s string) string {
	plain := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("_./=:,+@%-", r))
	})
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
