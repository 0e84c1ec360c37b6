package cli

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// isTerminal reports whether f (a stream of Env) is a terminal.
func isTerminal(f any) bool {
	_, ok := terminalFd(f)
	return ok
}

// inherit makes the flag name of c apply to the commands under c too, so
// that it may stand before or after their names (ecode kv -p P get K).
// The flag stays the same value, with its completion.
func inherit(c *cobra.Command, name string) {
	c.PersistentFlags().AddFlag(c.Flags().Lookup(name))
}

// envFlag adds --env, the environment of a project's data, to c and the
// commands under it.
func envFlag(c *cobra.Command, env *string) {
	c.PersistentFlags().StringVar(env, "env", "dev", "the environment: dev (the workspace's) or prod (the deployment's)")
	_ = c.RegisterFlagCompletionFunc("env", cobra.FixedCompletions([]string{"dev", "prod"}, cobra.ShellCompDirectiveNoFileComp))
}

// checkEnv refuses an environment other than dev and prod before any
// request is made.
func checkEnv(env string) error {
	if env != "dev" && env != "prod" {
		return usageErrorf("--env is dev or prod, not %q", env)
	}
	return nil
}

// readInput reads r whole as text, refusing more than max bytes (what
// names the input in the error) and anything but UTF-8, which the API's
// JSON cannot carry as it is.
func readInput(r io.Reader, max int64, what string) (string, error) {
	raw, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	if int64(len(raw)) > max {
		return "", usageErrorf("%s is over %s, the most it may be", what, bytesText(max))
	}
	if !utf8.Valid(raw) {
		return "", usageErrorf("%s is not UTF-8 text", what)
	}
	return string(raw), nil
}

// bytesText says n bytes the way people read sizes.
func bytesText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// grid prints rows under header as psql does: columns separated by " | "
// and a dashed rule under the header, the columns marked in right (which
// may be nil) aligned right; the caller adds the footer. Cells are kept to
// one line.
func grid(w io.Writer, header []string, right []bool, rows [][]string) {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range rows {
		for i, cell := range r {
			r[i] = oneLine(cell)
			widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
		}
	}
	line := func(cells []string, align bool) {
		var b strings.Builder
		for i, cell := range cells {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			last := i == len(cells)-1
			if i > 0 {
				b.WriteString("|")
			}
			switch {
			case align && i < len(right) && right[i]:
				b.WriteString(" " + pad + cell)
			case last:
				b.WriteString(" " + cell)
			default:
				b.WriteString(" " + cell + pad)
			}
			if !last {
				b.WriteString(" ")
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(header, false)
	rule := make([]string, len(widths))
	for i, n := range widths {
		rule[i] = strings.Repeat("-", n+2)
	}
	fmt.Fprintln(w, strings.Join(rule, "+"))
	for _, r := range rows {
		line(r, true)
	}
}

// rowCount is psql's footer: (1 row), (3 rows).
func rowCount(n int) string {
	if n == 1 {
		return "(1 row)"
	}
	return fmt.Sprintf("(%d rows)", n)
}
