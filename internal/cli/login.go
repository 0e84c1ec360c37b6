package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// user is the account a token belongs to, as GET /api/auth/me answers.
type user struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

func (a *app) loginCmd() *cobra.Command {
	var withToken bool
	c := &cobra.Command{
		Use:   "login [--host URL] [--with-token]",
		Short: "Log in to a server with an API token",
		Long: `Log in to a server with an API token, which you create in the web UI
under Settings. The token is checked with the server, then kept for that
host in hosts.json in your config folder (readable by you alone), and the
host becomes the one commands use by default.

Without --with-token the token is asked for on the terminal, unechoed.`,
		Example: `  ecode login --host https://ecode.example.com
  echo "$ECODE_TOKEN" | ecode login --host ecode.example.com --with-token`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.login(cmd.Context(), withToken)
		},
	}
	c.Flags().BoolVar(&withToken, "with-token", false, "read the token from stdin")
	return c
}

func (a *app) login(ctx context.Context, withToken bool) error {
	dir, hosts, host, err := a.hosts(nil)
	if exitCode(err) == ExitAuth {
		return usageErrorf("which server? pass --host, such as --host https://ecode.example.com")
	}
	if err != nil {
		return err
	}
	token, err := a.readToken(host, withToken)
	if err != nil {
		return err
	}
	c := &Client{Host: host, Token: token, HTTP: a.env.HTTP}
	var me struct{ User user }
	if err := c.JSON(ctx, "GET", "/api/auth/me", nil, &me); err != nil {
		return err
	}
	hosts.Hosts[host] = Credential{Token: token, Username: me.User.Username}
	hosts.Current = host
	if err := hosts.save(dir); err != nil {
		return err
	}
	if a.json {
		return a.printJSON(map[string]any{"host": host, "user": me.User})
	}
	fmt.Fprintf(a.env.Stdout, "Logged in to %s as %s\n", host, me.User.Username)
	return nil
}

// readToken takes the token from stdin (--with-token) or asks for it on
// the terminal without echoing it.
func (a *app) readToken(host string, fromStdin bool) (string, error) {
	var raw []byte
	var err error
	if fromStdin {
		raw, err = io.ReadAll(io.LimitReader(a.env.Stdin, 4096))
	} else {
		fd, ok := a.terminal()
		if !ok {
			return "", usageErrorf("no terminal to ask for the token on; pipe it in with --with-token")
		}
		fmt.Fprintf(a.env.Stderr, "Create a token at %s/settings, then paste it here: ", host)
		raw, err = term.ReadPassword(fd)
		fmt.Fprintln(a.env.Stderr)
	}
	if err != nil {
		return "", fmt.Errorf("read the token: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return "", usageErrorf("the token is empty")
	}
	return token, nil
}

func (a *app) logoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logout [--host URL]",
		Short: "Forget the token of a server",
		Long: `Forget the stored token of a server (the current one unless --host says).
The token itself stays valid until you revoke it in the web UI (Settings).`,
		Example: `  ecode logout
  ecode logout --host https://ecode.example.com`,
		Args: args(0, 0),
		RunE: func(*cobra.Command, []string) error {
			dir, hosts, host, err := a.hosts(nil)
			if err != nil {
				return err
			}
			if _, ok := hosts.Hosts[host]; !ok {
				return notLoggedIn(host)
			}
			delete(hosts.Hosts, host)
			if hosts.Current == host {
				hosts.Current = ""
			}
			if err := hosts.save(dir); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"host": host})
			}
			fmt.Fprintf(a.env.Stdout, "Logged out of %s; revoke the token in Settings if nobody else uses it\n", host)
			return nil
		},
	}
}
