package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

// user is the account a token belongs to, as GET /api/auth/me answers.
type user struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
}

func (a *app) loginCmd() *cobra.Command {
	var withToken, paste, noBrowser bool
	c := &cobra.Command{
		Use:   "login [--host URL] [--no-browser | --with-token | --paste]",
		Short: "Log in to a server, approving in the browser",
		Long: `Log in to a server. By default ecode shows a code and a page of the
server to enter it on, opens that page in your browser ($BROWSER when set;
--no-browser leaves it to you, say on a machine with no browser), and waits
while you check the code and approve, logged in to the server in any
browser. The server then gives ecode an API token of its own, named after
this machine, which you can revoke in the web UI under Settings.

With --with-token ecode reads an API token, created in Settings, from stdin
(for scripts and CI); with --paste it asks for one on the terminal,
unechoed. Either way the token is checked with the server, then kept for
that host in hosts.json in your config folder (readable by you alone), and
the host becomes the one commands use by default.`,
		Example: `  ecode login --host https://ecode.example.com
  ecode login --host ecode.example.com --no-browser
  echo "$ECODE_TOKEN" | ecode login --host ecode.example.com --with-token
  ecode login --host ecode.example.com --paste`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if withToken && paste {
				return usageErrorf("--with-token reads the token from stdin, --paste from the terminal: choose one")
			}
			return a.login(cmd.Context(), withToken, paste, !noBrowser)
		},
	}
	c.Flags().BoolVar(&withToken, "with-token", false, "read an API token from stdin instead")
	c.Flags().BoolVar(&paste, "paste", false, "paste an API token on the terminal instead")
	c.Flags().BoolVar(&noBrowser, "no-browser", false, "print the page to open, without opening a browser")
	return c
}

func (a *app) login(ctx context.Context, withToken, paste, openBrowser bool) error {
	dir, hosts, host, err := a.hosts(nil)
	if exitCode(err) == ExitAuth {
		return usageErrorf("which server? pass --host, such as --host https://ecode.example.com")
	}
	if err != nil {
		return err
	}
	var token string
	if withToken || paste {
		token, err = a.readToken(host, withToken)
	} else {
		token, err = a.deviceLogin(ctx, host, openBrowser)
	}
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
// the terminal without echoing it (--paste).
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
		raw, err = a.askHidden(fd, "Create a token at "+host+"/settings, then paste it here: ")
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
		Short: "Revoke and forget the token of a server",
		Long: `Log out of a server (the current one unless --host says): revoke the stored
API token on the server, then forget it here. When the server cannot be
reached the token is forgotten all the same, with a warning that it may
still be valid until you revoke it in the web UI (Settings).`,
		Example: `  ecode logout
  ecode logout --host https://ecode.example.com`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, hosts, host, err := a.hosts(nil)
			if err != nil {
				return err
			}
			cred, ok := hosts.Hosts[host]
			if !ok {
				return notLoggedIn(host)
			}
			revoked := a.revoke(cmd.Context(), host, cred.Token)
			delete(hosts.Hosts, host)
			if hosts.Current == host {
				hosts.Current = ""
			}
			if err := hosts.save(dir); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"host": host, "revoked": revoked})
			}
			if revoked {
				fmt.Fprintf(a.env.Stdout, "Logged out of %s; the token was revoked\n", host)
			} else {
				fmt.Fprintf(a.env.Stdout, "Logged out of %s\n", host)
			}
			return nil
		},
	}
}

// revoke revokes token on host and reports whether it is dead now. A
// token the server no longer knows counts as revoked; when the server
// cannot say, a warning tells the person to revoke it by hand.
func (a *app) revoke(ctx context.Context, host, token string) bool {
	c := &Client{Host: host, Token: token, HTTP: a.env.HTTP}
	err := c.JSON(ctx, "DELETE", "/api/tokens/current", nil, nil)
	if err == nil || isStatus(err, http.StatusUnauthorized) {
		return true
	}
	fmt.Fprintf(a.env.Stderr, "ecode: the token was not revoked (%v); it may still be valid: revoke it in Settings at %s/settings\n", err, host)
	return false
}
