package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// project is what commands use of a project; raw keeps the API's object
// whole, so --json prints every field the server sent.
type project struct {
	ID           string `json:"id"`
	Owner        string `json:"owner"`
	Slug         string `json:"slug"`
	Name         string `json:"name"`
	URL          string `json:"url"` // the web path, such as /@alice/blog
	UpdatedAt    int64  `json:"updatedAt"`
	LastEditedAt int64  `json:"lastEditedAt"` // only in listings
	raw          json.RawMessage
}

func (p *project) UnmarshalJSON(b []byte) error {
	type plain project
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	p.raw = append(json.RawMessage(nil), b...)
	return nil
}

func (p project) MarshalJSON() ([]byte, error) {
	if p.raw == nil {
		return []byte("null"), nil
	}
	return p.raw, nil
}

// ref is how people name a project: OWNER/SLUG.
func (p *project) ref() string { return p.Owner + "/" + p.Slug }

// lookupProject finds a project by id, OWNER/SLUG, @OWNER/SLUG or its web
// URL, as the API resolves each.
func lookupProject(ctx context.Context, c *Client, ref string) (*project, error) {
	ref = strings.TrimSpace(ref)
	if u, err := url.Parse(ref); err == nil && u.Scheme != "" && u.Host != "" {
		ref = u.Path
	}
	ref = strings.TrimPrefix(strings.Trim(ref, "/"), "@")
	path := projectPath(ref, "")
	if owner, slug, ok := strings.Cut(ref, "/"); ok {
		if owner == "" || slug == "" || strings.Contains(slug, "/") {
			return nil, usageErrorf("%q is not a project; name one as OWNER/SLUG or by its id", ref)
		}
		path = "/api/users/" + url.PathEscape(owner) + "/projects/" + url.PathEscape(slug)
	}
	if ref == "" {
		return nil, usageErrorf("the project is empty; name one as OWNER/SLUG or by its id")
	}
	var out struct{ Project *project }
	if err := c.JSON(ctx, "GET", path, nil, &out); err != nil {
		return nil, err
	}
	return out.Project, nil
}

// project resolves the project a command acts on: ref (--project or an
// argument) if given, else the one folder dir is linked to. It returns the
// client for the project's host too.
func (a *app) project(ctx context.Context, ref, dir string) (*Client, *project, error) {
	var link *Link
	if ref == "" {
		var err error
		if link, _, err = findLink(dir); err != nil {
			return nil, nil, err
		}
		if link == nil {
			return nil, nil, usageErrorf("which project? pass --project OWNER/SLUG (neither %s nor a folder above it is linked to one)", dir)
		}
		ref = link.Project
	}
	c, err := a.client(link)
	if err != nil {
		return nil, nil, err
	}
	p, err := lookupProject(ctx, c, ref)
	if err != nil {
		return nil, nil, err
	}
	return c, p, nil
}

// projectFlag adds -p/--project, completed with the caller's projects.
func (a *app) projectFlag(c *cobra.Command, ref *string) {
	c.Flags().StringVarP(ref, "project", "p", "", "the project, OWNER/SLUG or id (default: the one the folder is linked to)")
	_ = c.RegisterFlagCompletionFunc("project", a.completeProjects)
}

// completeProjects offers the caller's projects for shell completion.
func (a *app) completeProjects(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	c, err := a.client(nil)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out struct{ Projects []project }
	if err := c.JSON(cmd.Context(), "GET", "/api/projects", nil, &out); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	names := make([]string, len(out.Projects))
	for i, p := range out.Projects {
		names[i] = p.ref() + "\t" + p.Name
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// projectArg completes a command's first argument with projects.
func (a *app) projectArg(cmd *cobra.Command, args []string, s string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.completeProjects(cmd, args, s)
}

func (a *app) projectsCmd() *cobra.Command {
	c := group(&cobra.Command{
		Use:     "projects",
		Aliases: []string{"project"},
		Short:   "List, create, delete and open projects",
		Example: `  ecode projects ls
  ecode projects create "My blog" --template node
  ecode projects open alice/my-blog
  ecode projects rm alice/my-blog --yes`,
	})
	c.AddCommand(a.projectsLsCmd(), a.projectsCreateCmd(), a.projectsRmCmd(), a.projectsOpenCmd())
	return c
}

func (a *app) projectsLsCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List your projects and those shared with you",
		Long:    "List your projects and those shared with you, most recently changed first.",
		Example: `  ecode projects ls
  ecode projects ls --json | jq -r '.[].id'`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(nil)
			if err != nil {
				return err
			}
			var out struct{ Projects []project }
			if err := c.JSON(cmd.Context(), "GET", "/api/projects", nil, &out); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(out.Projects)
			}
			if len(out.Projects) == 0 {
				fmt.Fprintln(a.env.Stdout, "No projects yet; create one with: ecode projects create NAME")
				return nil
			}
			tw := tabwriter.NewWriter(a.env.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPROJECT\tID\tUPDATED")
			now := time.Now()
			for _, p := range out.Projects {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", oneLine(p.Name), p.ref(), p.ID, ago(max(p.UpdatedAt, p.LastEditedAt), now))
			}
			return tw.Flush()
		},
	}
}

// oneLine keeps a name from breaking the table's lines or columns.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// ago says how long before now the unix-millisecond time ms was.
func ago(ms int64, now time.Time) string {
	t := time.UnixMilli(ms)
	switch d := now.Sub(t); {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	case d < 30*24*time.Hour:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
	return t.Format("2006-01-02")
}

func (a *app) projectsCreateCmd() *cobra.Command {
	var template string
	c := &cobra.Command{
		Use:   "create NAME [--template T]",
		Short: "Create a project",
		Long:  "Create a project of yours, from a template (blank unless --template says).",
		Example: `  ecode projects create "My blog"
  ecode projects create api --template go --json`,
		Args: args(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(nil)
			if err != nil {
				return err
			}
			in := map[string]string{"name": args[0], "template": template}
			var out struct{ Project *project }
			if err := c.JSON(cmd.Context(), "POST", "/api/projects", in, &out); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(out.Project)
			}
			fmt.Fprintf(a.env.Stdout, "Created %s (id %s): %s%s\n", out.Project.ref(), out.Project.ID, c.Host, out.Project.URL)
			return nil
		},
	}
	c.Flags().StringVar(&template, "template", "", "the template's id (see the web UI's new-project dialog)")
	_ = c.RegisterFlagCompletionFunc("template", a.completeTemplates)
	return c
}

// completeTemplates offers the server's templates for shell completion.
func (a *app) completeTemplates(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	c, err := a.client(nil)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out struct {
		Templates []struct{ ID, Name string }
	}
	if err := c.JSON(cmd.Context(), "GET", "/api/templates", nil, &out); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	ids := make([]string, len(out.Templates))
	for i, t := range out.Templates {
		ids[i] = t.ID + "\t" + t.Name
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

func (a *app) projectsRmCmd() *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:     "rm PROJECT [--yes]",
		Aliases: []string{"delete"},
		Short:   "Delete a project and all its files",
		Long: `Delete a project and all its files. On a terminal it asks first; elsewhere
(a script, a pipe) it refuses unless --yes is given.`,
		Example: `  ecode projects rm alice/old-blog
  ecode projects rm 01JBX2Q5W3E8RZ0Y7T9M4KD6HF --yes`,
		Args:              args(1, 1),
		ValidArgsFunction: a.projectArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, interactive := a.terminal()
			if !yes && !interactive {
				return usageErrorf("refusing to delete without --yes when stdin is not a terminal")
			}
			c, err := a.client(nil)
			if err != nil {
				return err
			}
			p, err := lookupProject(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			if !yes {
				if err := a.confirm(fmt.Sprintf("Delete %s and all its files? This cannot be undone.", p.ref())); err != nil {
					return err
				}
			}
			if err := c.JSON(cmd.Context(), "DELETE", projectPath(p.ID, ""), nil, nil); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(p)
			}
			fmt.Fprintf(a.env.Stdout, "Deleted %s\n", p.ref())
			return nil
		},
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return c
}

// confirm asks question on the terminal and returns nil only for yes.
func (a *app) confirm(question string) error {
	fmt.Fprintf(a.env.Stderr, "%s [y/N] ", question)
	line, err := bufio.NewReader(a.env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read the answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return &exitError{code: ExitRefused, err: errors.New("not confirmed; nothing was changed")}
}

func (a *app) projectsOpenCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "open [PROJECT]",
		Short: "Print a project's address in the web UI",
		Long:  "Print the address of a project in the web UI (the folder's linked project when none is named).",
		Example: `  ecode projects open alice/blog
  xdg-open "$(ecode projects open)"`,
		Args:              args(0, 1),
		ValidArgsFunction: a.projectArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 1 {
				ref = args[0]
			}
			c, p, err := a.project(cmd.Context(), ref, ".")
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(p)
			}
			fmt.Fprintln(a.env.Stdout, c.Host+p.URL)
			return nil
		},
	}
}
