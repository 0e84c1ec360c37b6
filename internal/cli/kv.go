package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// maxKVValue is the largest value the key-value store keeps.
const maxKVValue = 5 << 20

// kvEntry is a key as the store lists it; Updated is unix ms.
type kvEntry struct {
	Key     string `json:"key"`
	Size    int64  `json:"size"`
	Updated int64  `json:"updated"`
}

// kvScope is what every kv command acts on: a project's store of an
// environment.
type kvScope struct {
	a        *app
	ref, env string
}

// open checks the flags and finds the project.
func (s *kvScope) open(ctx context.Context) (*Client, string, error) {
	if err := checkEnv(s.env); err != nil {
		return nil, "", err
	}
	c, p, err := s.a.project(ctx, s.ref, ".")
	if err != nil {
		return nil, "", err
	}
	return c, projectPath(p.ID, "/kv/"+s.env), nil
}

// valuePath is the path of key's value in the store at base.
func valuePath(base, key string) string { return base + "/value?key=" + url.QueryEscape(key) }

func (a *app) kvCmd() *cobra.Command {
	s := &kvScope{a: a}
	c := group(&cobra.Command{
		Use:   "kv",
		Short: "Read and change a project's key-value store",
		Long: `Read and change the project's key-value store (the Replit Database its code
reaches through REPLIT_DB_URL), dev unless --env prod. Values are text, at
most 5 MiB each.`,
		Example: `  ecode kv set greeting hello
  ecode kv get greeting
  ecode kv -p alice/blog --env prod ls user:
  ecode kv set config - < config.json
  ecode kv rm greeting`,
	})
	a.projectFlag(c, &s.ref)
	inherit(c, "project")
	envFlag(c, &s.env)
	c.AddCommand(s.getCmd(), s.setCmd(), s.lsCmd(), s.rmCmd())
	return c
}

func (s *kvScope) getCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get KEY",
		Short: "Print a key's value",
		Long: `Print a key's value as it is stored, with no newline added unless stdout is
a terminal. A missing key exits with 4.`,
		Example: `  ecode kv get greeting
  ecode kv get config | jq .
  ecode kv get greeting --json`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, base, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := c.JSON(cmd.Context(), "GET", valuePath(base, args[0]), nil, &raw); err != nil {
				return err
			}
			if s.a.json {
				return s.a.printJSON(raw)
			}
			var v struct{ Value string }
			if err := json.Unmarshal(raw, &v); err != nil {
				return fmt.Errorf("decode the value: %w", err)
			}
			io.WriteString(s.a.env.Stdout, v.Value)
			if isTerminal(s.a.env.Stdout) && !strings.HasSuffix(v.Value, "\n") {
				io.WriteString(s.a.env.Stdout, "\n")
			}
			return nil
		},
	}
}

func (s *kvScope) setCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "set KEY VALUE|-",
		Short: "Set a key's value",
		Long: `Set a key's value, stored exactly as given; - reads the value from stdin
(all of it, a final newline included).`,
		Example: `  ecode kv set greeting hello
  ecode kv set config - < config.json
  echo -n 42 | ecode kv --env prod set answer -`,
		Args: args(2, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, value := args[0], args[1]
			if value == "-" {
				var err error
				if value, err = readInput(s.a.env.Stdin, maxKVValue, "the value on stdin"); err != nil {
					return err
				}
			}
			c, base, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			var out struct {
				Entry kvEntry `json:"entry"`
			}
			if err := c.JSON(cmd.Context(), "PUT", valuePath(base, key), map[string]string{"value": value}, &out); err != nil {
				return err
			}
			if s.a.json {
				return s.a.printJSON(out.Entry)
			}
			fmt.Fprintf(s.a.env.Stdout, "Set %s (%s)\n", oneLine(key), bytesText(int64(len(value))))
			return nil
		},
	}
}

func (s *kvScope) lsCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "ls [PREFIX]",
		Aliases: []string{"list"},
		Short:   "List the keys",
		Long:    "List the store's keys in order (those that start with PREFIX, if given), with their size and when they changed.",
		Example: `  ecode kv ls
  ecode kv ls user:
  ecode kv ls --json | jq -r '.[].key'`,
		Args: args(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, base, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			prefix := ""
			if len(args) == 1 {
				prefix = args[0]
			}
			entries := []kvEntry{}
			for after := ""; ; {
				q := url.Values{"prefix": {prefix}, "after": {after}, "limit": {"1000"}}
				var page struct {
					Entries []kvEntry
					Next    string
				}
				if err := c.JSON(cmd.Context(), "GET", base+"?"+q.Encode(), nil, &page); err != nil {
					return err
				}
				entries = append(entries, page.Entries...)
				if after = page.Next; after == "" {
					break
				}
			}
			if s.a.json {
				return s.a.printJSON(entries)
			}
			if len(entries) == 0 {
				fmt.Fprintln(s.a.env.Stdout, "No keys")
				return nil
			}
			tw := tabwriter.NewWriter(s.a.env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "KEY\tSIZE\tUPDATED")
			now := time.Now()
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", oneLine(e.Key), bytesText(e.Size), ago(e.Updated, now))
			}
			return tw.Flush()
		},
	}
}

func (s *kvScope) rmCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "rm KEY",
		Aliases: []string{"delete"},
		Short:   "Delete a key",
		Long:    "Delete a key and its value. A missing key exits with 4.",
		Example: `  ecode kv rm greeting
  ecode kv --env prod rm session:42`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, base, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			if err := c.JSON(cmd.Context(), "DELETE", valuePath(base, args[0]), nil, nil); err != nil {
				return err
			}
			if s.a.json {
				return s.a.printJSON(map[string]string{"key": args[0]})
			}
			fmt.Fprintf(s.a.env.Stdout, "Deleted %s\n", oneLine(args[0]))
			return nil
		},
	}
}
