// Package cli is the client side of the ecode binary: commands that work
// with a platform over its HTTP API, as a person's API token allows (log
// in, list and create projects, sync a folder with a project's files, run
// a command in its sandbox). It holds no server code; the server commands
// (serve, migrate, admin) stay in cmd/ecode.
//
// Every command prints tables for people and, with --json, the API's own
// objects for scripts; errors print the server's error code and message,
// and the exit code says what kind of failure it was (see ExitUsage...).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes, documented in the root command's help.
const (
	ExitOK          = 0
	ExitFailure     = 1   // anything else: the network, a local file, a server error
	ExitUsage       = 2   // a wrong command line
	ExitAuth        = 3   // not logged in, or the token was refused
	ExitNotFound    = 4   // the project (or file) does not exist, or is not visible to you
	ExitRefused     = 5   // the server refused (forbidden, conflict), or you said no
	ExitInterrupted = 130 // Ctrl-C, as shells report it
)

const exitCodes = `Exit codes:
  0  success
  1  failure (network, local files, server error)
  2  usage: a wrong command line
  3  not logged in, or the token was refused
  4  not found (or not visible to you)
  5  refused by the server (forbidden, conflict), or not confirmed
  ecode exec exits with the command's own exit code.`

// Env is what a command reads, writes and sees of its environment.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	HTTP           *http.Client // nil: http.DefaultClient
}

// Main runs the client command in args (os.Args[1:]) and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Run(ctx, args, Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv})
}

// Run is Main with the environment given, so tests need not change the
// process's.
func Run(ctx context.Context, args []string, env Env) int {
	a := &app{env: env}
	root := a.root()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if !a.started {
		// Cobra failed before any command ran: flags, arguments, names.
		code = ExitUsage
	}
	if ctx.Err() != nil {
		code = ExitInterrupted
	}
	var quiet *exitError
	if errors.As(err, &quiet) && quiet.err == nil {
		return code // exec: the command spoke for itself
	}
	fmt.Fprintln(env.Stderr, "ecode:", err)
	if code == ExitUsage {
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(env.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}

// Handles reports whether args (os.Args[1:]) name a client command, so
// main knows to hand them to Main; the root's flags may come first.
func Handles(args []string) bool {
	for i := 0; i < len(args); i++ {
		switch arg := args[i]; {
		case arg == "--host":
			i++
		case strings.HasPrefix(arg, "--host=") || arg == "--json":
		default:
			for _, c := range (&app{}).root().Commands() {
				if c.Name() == arg || c.HasAlias(arg) {
					return true
				}
			}
			// Shell completion scripts call back into the binary.
			return arg == cobra.ShellCompRequestCmd || arg == cobra.ShellCompNoDescRequestCmd
		}
	}
	return false
}

// exitError carries the exit code an error means; err nil is a silent
// exit (exec passing on its command's code).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// exitCode is the exit code err means.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ae *APIError
	if errors.As(err, &ae) {
		switch ae.Status {
		case http.StatusUnauthorized:
			return ExitAuth
		case http.StatusNotFound:
			return ExitNotFound
		case http.StatusForbidden, http.StatusConflict:
			return ExitRefused
		}
	}
	return ExitFailure
}

// app is one run of the command line: its environment and global flags.
type app struct {
	env     Env
	host    string // --host
	json    bool   // --json
	started bool   // a command's own code ran (cobra parsed the line)
}

func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "ecode",
		Short: "Work with an E-Code server from the command line",
		Long: `Work with an E-Code server from the command line. ecode login logs in
through the browser, or takes an API token created in the web UI (Settings).

The server is --host, else $ECODE_HOST, else the folder's linked project's,
else the one you last logged in to. $ECODE_TOKEN, when set, is used instead
of the stored token (for CI).

` + exitCodes,
		Example: `  ecode login --host https://ecode.example.com
  ecode projects ls
  ecode files pull -p alice/blog blog/
  cd blog && ecode exec -- npm test
  ecode shell
  ecode deploy --type autoscale && ecode logs -f`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			a.started = true
			return nil
		},
		// No default completion command: ours has examples and no powershell.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(a.env.Stdin)
	root.SetOut(a.env.Stdout)
	root.SetErr(a.env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: err}
	})
	root.PersistentFlags().StringVar(&a.host, "host", "", "the server, such as https://ecode.example.com (default: $ECODE_HOST, else the last login's)")
	root.PersistentFlags().BoolVar(&a.json, "json", false, "print the API's objects as JSON, for scripts")
	root.AddCommand(a.loginCmd(), a.logoutCmd(), a.projectsCmd(), a.filesCmd(), a.execCmd(),
		a.runCmd(), a.shellCmd(), a.logsCmd(), a.agentCmd(), // console.go, shell.go, logs.go, agent.go
		a.deployCmd(), a.dbCmd(), a.kvCmd(), a.secretsCmd(), // deploy.go, db.go, kv.go, secrets.go
		a.completionCmd())
	return root
}

// group is a command that only holds others: alone it prints its help,
// and an unknown subcommand is a usage error rather than that help.
func group(c *cobra.Command) *cobra.Command {
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
		}
		return cmd.Help()
	}
	return c
}

// args checks a command's positional arguments, as a usage error.
func args(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return usageErrorf("too few arguments; usage: %s", cmd.UseLine())
		case max >= 0 && len(args) > max:
			return usageErrorf("too many arguments; usage: %s", cmd.UseLine())
		}
		return nil
	}
}

func (a *app) getenv(k string) string {
	if a.env.Getenv == nil {
		return ""
	}
	return a.env.Getenv(k)
}

// printJSON writes v indented, for --json.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.env.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// terminal returns stdin's descriptor when stdin is a terminal.
func (a *app) terminal() (int, bool) { return terminalFd(a.env.Stdin) }

// askHidden asks question on stderr and reads the answer from the
// terminal fd without echoing it.
func (a *app) askHidden(fd int, question string) ([]byte, error) {
	fmt.Fprint(a.env.Stderr, question)
	raw, err := term.ReadPassword(fd)
	fmt.Fprintln(a.env.Stderr)
	return raw, err
}

// notLoggedIn is the error for a host without credentials.
func notLoggedIn(host string) error {
	return &exitError{code: ExitAuth, err: fmt.Errorf("not logged in to %s; run: ecode login --host %s", host, host)}
}

// hostFor picks the server: --host, $ECODE_HOST, the linked folder's
// (link may be nil), the last login's.
func (a *app) hostFor(link *Link, hosts *Hosts) (string, error) {
	switch {
	case a.host != "":
		return normalizeHost(a.host)
	case a.getenv("ECODE_HOST") != "":
		return normalizeHost(a.getenv("ECODE_HOST"))
	case link != nil && link.Host != "":
		return link.Host, nil
	case hosts.Current != "":
		return hosts.Current, nil
	}
	return "", &exitError{code: ExitAuth, err: errors.New("not logged in; run: ecode login --host URL")}
}

// hosts loads the stored credentials and picks the host (see hostFor);
// dir is where they are kept.
func (a *app) hosts(link *Link) (dir string, hosts *Hosts, host string, err error) {
	if dir, err = configDir(a.getenv); err != nil {
		return "", nil, "", err
	}
	if hosts, err = loadHosts(dir); err != nil {
		return "", nil, "", err
	}
	host, err = a.hostFor(link, hosts)
	return dir, hosts, host, err
}

// client is an API client for the chosen host, with its token.
func (a *app) client(link *Link) (*Client, error) {
	_, hosts, host, err := a.hosts(link)
	if err != nil {
		return nil, err
	}
	token := a.getenv("ECODE_TOKEN")
	if token == "" {
		token = hosts.Hosts[host].Token
	}
	if token == "" {
		return nil, notLoggedIn(host)
	}
	return &Client{Host: host, Token: token, HTTP: a.env.HTTP}, nil
}
