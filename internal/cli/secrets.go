package cli

import (
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// maxSecret is the largest value a secret may hold.
const maxSecret = 64 << 10

// secret is a secret as listed: never its value.
type secret struct {
	Name      string `json:"name"`
	UpdatedBy string `json:"updatedBy"`
	UpdatedAt int64  `json:"updatedAt"`
}

func (a *app) secretsCmd() *cobra.Command {
	var ref string
	c := group(&cobra.Command{
		Use:     "secrets",
		Aliases: []string{"secret"},
		Short:   "List, set and delete a project's secrets",
		Long: `List, set and delete the project's secrets: values kept encrypted on the
server that its runs, shells and commands get as environment variables
from their next start (and deployments from their next deploy). Listings
show names, never values.`,
		Example: `  ecode secrets ls
  ecode secrets set API_KEY
  echo "$TOKEN" | ecode secrets -p alice/blog set GITHUB_TOKEN
  ecode secrets rm API_KEY --yes`,
	})
	a.projectFlag(c, &ref)
	inherit(c, "project")
	c.AddCommand(a.secretsLsCmd(&ref), a.secretsSetCmd(&ref), a.secretsRmCmd(&ref))
	return c
}

func (a *app) secretsLsCmd(ref *string) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List the secrets' names",
		Long: `List the project's secrets by name, with who changed each last and when;
for a team's project, also the team's secrets it gets (its own of the same
name win). Values are never shown.`,
		Example: `  ecode secrets ls
  ecode secrets ls --json | jq -r '.secrets[].name'`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.project(cmd.Context(), *ref, ".")
			if err != nil {
				return err
			}
			var out struct {
				Secrets     []secret `json:"secrets"`
				TeamSecrets []secret `json:"teamSecrets"`
			}
			if err := c.JSON(cmd.Context(), "GET", projectPath(p.ID, "/secrets"), nil, &out); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(out)
			}
			if len(out.Secrets)+len(out.TeamSecrets) == 0 {
				fmt.Fprintf(a.env.Stdout, "%s has no secrets; add one with: ecode secrets set NAME\n", p.ref())
				return nil
			}
			tw := tabwriter.NewWriter(a.env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tFROM\tUPDATED BY\tUPDATED")
			now := time.Now()
			for _, list := range []struct {
				from    string
				secrets []secret
			}{{"project", out.Secrets}, {"team", out.TeamSecrets}} {
				for _, s := range list.secrets {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, list.from, s.UpdatedBy, ago(s.UpdatedAt, now))
				}
			}
			return tw.Flush()
		},
	}
}

func (a *app) secretsSetCmd(ref *string) *cobra.Command {
	return &cobra.Command{
		Use:   "set NAME [VALUE]",
		Short: "Create or replace a secret",
		Long: `Create or replace a secret. Without VALUE it is asked for on the terminal,
unechoed, or read from stdin when that is not a terminal (one final newline
dropped), so that the value need not stand on the command line, where
shell history and process listings would keep it.`,
		Example: `  ecode secrets set API_KEY
  ecode secrets set API_KEY "$API_KEY"
  pass show stripe | ecode secrets set STRIPE_KEY`,
		Args: args(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			c, p, err := a.project(cmd.Context(), *ref, ".")
			if err != nil {
				return err
			}
			var value string
			if len(args) == 2 {
				value = args[1]
			} else if value, err = a.readSecret(name); err != nil {
				return err
			}
			path := projectPath(p.ID, "/secrets/"+url.PathEscape(name))
			if err := c.JSON(cmd.Context(), "PUT", path, map[string]string{"value": value}, nil); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]string{"name": name})
			}
			fmt.Fprintf(a.env.Stdout, "Set %s of %s; runs, shells and commands get it from their next start\n", name, p.ref())
			return nil
		},
	}
}

// readSecret asks for name's value on the terminal, unechoed, or reads it
// from stdin when that is not one.
func (a *app) readSecret(name string) (string, error) {
	var value string
	if fd, ok := a.terminal(); ok {
		raw, err := a.askHidden(fd, "Value of "+name+" (not shown): ")
		if err != nil {
			return "", fmt.Errorf("read the value: %w", err)
		}
		value = string(raw)
	} else {
		var err error
		if value, err = readInput(a.env.Stdin, maxSecret+2, "the value on stdin"); err != nil {
			return "", err
		}
		value = strings.TrimSuffix(strings.TrimSuffix(value, "\n"), "\r")
	}
	if value == "" {
		return "", usageErrorf("the value is empty; nothing was set")
	}
	return value, nil
}

func (a *app) secretsRmCmd(ref *string) *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:     "rm NAME [--yes]",
		Aliases: []string{"delete"},
		Short:   "Delete a secret",
		Long: `Delete a secret; runs, shells and commands no longer get it from their next
start. On a terminal it asks first; elsewhere (a script, a pipe) it refuses
unless --yes is given.`,
		Example: `  ecode secrets rm API_KEY
  ecode secrets -p alice/blog rm OLD_TOKEN --yes`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			_, interactive := a.terminal()
			if !yes && !interactive {
				return usageErrorf("refusing to delete without --yes when stdin is not a terminal")
			}
			c, p, err := a.project(cmd.Context(), *ref, ".")
			if err != nil {
				return err
			}
			if !yes {
				if err := a.confirm(fmt.Sprintf("Delete the secret %s of %s?", name, p.ref())); err != nil {
					return err
				}
			}
			if err := c.JSON(cmd.Context(), "DELETE", projectPath(p.ID, "/secrets/"+url.PathEscape(name)), nil, nil); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]string{"name": name})
			}
			fmt.Fprintf(a.env.Stdout, "Deleted %s of %s\n", name, p.ref())
			return nil
		},
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return c
}
