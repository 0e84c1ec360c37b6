// Command ecode is the whole E-Code platform in one binary.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"ecode/internal/audit"
	"ecode/internal/cli"
	"ecode/internal/config"
	"ecode/internal/deploy"
	"ecode/internal/ledger"
	"ecode/internal/projectdb"
	"ecode/internal/runtime/bwrap"
	"ecode/internal/seal"
	"ecode/internal/server"
	"ecode/internal/store"
	"ecode/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `E-Code: a self-hostable development platform.

Usage:
  ecode serve [flags]                 run the platform (ecode serve -h lists the flags)
  ecode migrate [flags]               apply database migrations and exit
  ecode admin create-user [flags]     create an account (-username, -email; password from stdin)
  ecode admin disable-user -username NAME   end the account's sessions and refuse its logins and tokens
  ecode admin enable-user -username NAME    let a disabled account in again
  ecode admin grant-admin -username NAME    make an account a platform administrator (the first account is one)
  ecode admin revoke-admin -username NAME   take that away
  ecode admin verify-audit [-anchor SEQ:MAC|FILE]
                                      check the keyed audit chain and its anchored head: no entry
                                      changed, removed or truncated; prints the head to keep elsewhere
  ecode admin clear-allowlist -team NAME    let every address into a team that shut itself out
  ecode admin grant-credits -user NAME|-team NAME -credits N [-reason TEXT]
                                      credit a person or a team (an entry in the ledger; without Stripe, how credits come)
  ecode admin reconcile-ledger        check that every balance is the sum of its transfers and that all sum to zero
  ecode admin reseal                  re-encrypt every sealed value, and re-chain the audit log, under the current master key
                                      (after rotating: the new ECODE_MASTER_KEY, the old one in ECODE_MASTER_KEY_PREVIOUS)
  ecode version                       print the version

Client commands, for a server over its API (ecode COMMAND --help tells more):
  ecode login [--host URL]            log in through the browser (or --with-token, --paste)
  ecode logout                        revoke the token and forget it
  ecode projects ls|create|rm|open    list, create, delete a project, or print its address
  ecode files push|pull [DIR]         sync a folder with a project's files (-p OWNER/SLUG)
  ecode exec [-p PROJECT] -- CMD      run a command in a project's sandbox, exiting with its code
  ecode run | shell                   run the project, streaming its console; a terminal in its sandbox
  ecode logs [-f]                     the deployment's log
  ecode agent PROMPT                  ask the agent to build or change the project, following its steps
  ecode deploy [--type T]             deploy, following the build, and print the URL
  ecode db [-c SQL]                   a SQL shell on the project's database, or one query
  ecode kv get|set|ls|rm              the project's key-value store
  ecode secrets ls|set|rm             the project's secrets
  ecode completion bash|zsh|fish      print the shell completion script
  They take --host URL and --json; they exit 0 ok, 1 failure, 2 usage, 3 not logged in
  or token refused, 4 not found, 5 refused or not confirmed.

Every flag has an ECODE_* environment variable; see the README.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if cli.Handles(os.Args[1:]) {
		code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ecode:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if handled, err := bwrap.Main(args); handled {
		return err
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout)
	case "migrate":
		return migrate(ctx, args[1:], stdout)
	case "admin":
		switch {
		case len(args) >= 2 && args[1] == "create-user":
			return createUser(ctx, args[2:], stdin, stdout)
		case len(args) >= 2 && (args[1] == "disable-user" || args[1] == "enable-user" || args[1] == "grant-admin" || args[1] == "revoke-admin"):
			return setFlag(ctx, args[1], args[2:], stdout)
		case len(args) >= 2 && args[1] == "reseal":
			return reseal(ctx, args[2:], stdout)
		case len(args) >= 2 && args[1] == "verify-audit":
			return verifyAudit(ctx, args[2:], stdout)
		case len(args) >= 2 && args[1] == "clear-allowlist":
			return clearAllowlist(ctx, args[2:], stdout)
		case len(args) >= 2 && args[1] == "grant-credits":
			return grantCredits(ctx, args[2:], stdout)
		case len(args) >= 2 && args[1] == "reconcile-ledger":
			return reconcileLedger(ctx, args[2:], stdout)
		}
		return fmt.Errorf("usage: ecode admin create-user|disable-user|enable-user ...")
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "ecode", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return version
}

func setupLogging(cfg config.Config) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	slog.SetDefault(slog.New(h))
}

func serve(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := config.Load("serve", args)
	if err != nil {
		return err
	}
	setupLogging(cfg)
	srv, err := server.New(ctx, cfg, web.Dist)
	if err != nil {
		return err
	}
	defer srv.Close()
	return srv.Serve(ctx, func(addr net.Addr) {
		slog.Info("E-Code is running", "version", buildVersion(), "addr", addr.String(), "data_dir", cfg.DataDir,
			"database", srv.DB.Dialect)
		fmt.Fprintf(stdout, "E-Code is running at %s\n", cfg.PublicURL)
	})
}

func migrate(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := config.Load("migrate", args)
	if err != nil {
		return err
	}
	setupLogging(cfg)
	db, err := store.OpenMigrated(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "%s database is up to date\n", db.Dialect)
	return nil
}

func adminSetup(ctx context.Context, name string, args []string, flags func(fs *flag.FlagSet)) (*store.DB, config.Config, error) {
	cfg := config.Default()
	fs := flag.NewFlagSet("admin "+name, flag.ContinueOnError)
	cfg.Bind(fs, os.Getenv)
	flags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, cfg, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, cfg, err
	}
	setupLogging(cfg)
	db, err := store.OpenMigrated(ctx, cfg.DatabaseURL, cfg.DataDir)
	return db, cfg, err
}

func verifyAudit(ctx context.Context, args []string, stdout io.Writer) error {
	var anchor *string
	db, cfg, err := adminSetup(ctx, "verify-audit", args, func(fs *flag.FlagSet) {
		anchor = fs.String("anchor", "", "a head kept elsewhere (SEQ:MAC, as this command prints it), or a file holding one")
	})
	if err != nil {
		return err
	}
	defer db.Close()
	var external []audit.Head
	if *anchor != "" {
		h, err := readHead(*anchor)
		if err != nil {
			return err
		}
		external = append(external, h)
	}
	log, err := openAudit(ctx, db, cfg)
	if err != nil {
		return err
	}
	rep, err := log.Verify(ctx, external...)
	if err != nil {
		return fmt.Errorf("%w (%d entries before it hold)", err, rep.Entries)
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries, checked against %d anchor(s)\nhead: %s\n", rep.Entries, rep.Anchors, rep.Head)
	return nil
}

// readHead reads -anchor: a head itself, or the path of a file holding one.
func readHead(v string) (audit.Head, error) {
	if h, err := audit.ParseHead(v); err == nil {
		return h, nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return audit.Head{}, fmt.Errorf("-anchor: neither SEQ:MAC nor a readable file: %w", err)
	}
	h, err := audit.ParseHead(string(b))
	if err != nil {
		return audit.Head{}, fmt.Errorf("-anchor %s: %w", v, err)
	}
	return h, nil
}

// openAudit opens the audit log as the server does: keyed by the master
// key, anchored in the data dir.
func openAudit(ctx context.Context, db *store.DB, cfg config.Config) (*audit.Log, error) {
	keys, err := seal.Load(cfg.MasterKey, filepath.Join(cfg.DataDir, "master.key"), cfg.PreviousKeys)
	if err != nil {
		return nil, err
	}
	return audit.OpenInstall(ctx, db, keys, cfg.DataDir)
}

func clearAllowlist(ctx context.Context, args []string, stdout io.Writer) error {
	var name *string
	return withCore(ctx, "clear-allowlist", args, func(fs *flag.FlagSet) {
		name = fs.String("team", "", "the team's name")
	}, func(core *server.Core, _ *store.DB) error {
		if err := core.Teams.ClearAllowlist(ctx, *name); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "team %s: any address may reach it again\n", *name)
		return nil
	})
}

func grantCredits(ctx context.Context, args []string, stdout io.Writer) error {
	var user, team, credits, reason *string
	return withCore(ctx, "grant-credits", args, func(fs *flag.FlagSet) {
		user = fs.String("user", "", "the person's username")
		team = fs.String("team", "", "the team's name")
		credits = fs.String("credits", "", "how many credits, such as 100 or 2.5")
		reason = fs.String("reason", "", "why, shown in the account's transactions")
	}, func(core *server.Core, _ *store.DB) error {
		t, err := core.Billing.GrantTo(ctx, *user, *team, *credits, *reason, "ecode admin")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "granted %s credits to %s (transfer %s)\n", ledger.Credits(t.Amount), strings.TrimPrefix(t.Credit, "credits:"), t.ID)
		return nil
	})
}

func reconcileLedger(ctx context.Context, args []string, stdout io.Writer) error {
	return withCore(ctx, "reconcile-ledger", args, func(*flag.FlagSet) {}, func(core *server.Core, _ *store.DB) error {
		rep, err := core.Billing.Reconcile(ctx)
		if err != nil {
			return err
		}
		if !rep.OK() {
			return fmt.Errorf("the ledger does not balance:\n  %s", strings.Join(rep.Problems, "\n  "))
		}
		fmt.Fprintf(stdout, "ledger balanced: %d accounts, %d transfers, total %s\n", rep.Accounts, rep.Transfers, ledger.Credits(rep.Total))
		return nil
	})
}

// withCore runs fn over the core services of the configured database, as
// the admin command name with its flags.
func withCore(ctx context.Context, name string, args []string, flags func(fs *flag.FlagSet), fn func(core *server.Core, db *store.DB) error) error {
	db, cfg, err := adminSetup(ctx, name, args, flags)
	if err != nil {
		return err
	}
	defer db.Close()
	core, err := server.NewCore(ctx, db, cfg)
	if err != nil {
		return err
	}
	return fn(core, db)
}

func reseal(ctx context.Context, args []string, stdout io.Writer) error {
	db, cfg, err := adminSetup(ctx, "reseal", args, func(*flag.FlagSet) {})
	if err != nil {
		return err
	}
	defer db.Close()
	core, err := server.NewCore(ctx, db, cfg)
	if err != nil {
		return err
	}
	n, err := core.Secrets.Reseal(ctx)
	if err != nil {
		return err
	}
	m, err := core.SSHKeys.Reseal(ctx)
	if err != nil {
		return err
	}
	w, err := deploy.ResealWebhooks(ctx, db, core.Keyring)
	if err != nil {
		return err
	}
	d, err := projectdb.ResealPasswords(ctx, db, core.Keyring)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "resealed %d secrets, %d SSH keys, %d webhook secrets and %d database passwords under key %s\n", n, m, w, d, core.Keyring.Current())
	entries, head, err := core.Audit.Rechain(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-chained %d audit log entries under key %s; head: %s\n", entries, core.Keyring.Current(), head)
	return nil
}

func createUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	var username, email *string
	db, cfg, err := adminSetup(ctx, "create-user", args, func(fs *flag.FlagSet) {
		username = fs.String("username", "", "username of the new account")
		email = fs.String("email", "", "email of the new account")
	})
	if err != nil {
		return err
	}
	defer db.Close()
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from stdin: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	core, err := server.NewCore(ctx, db, cfg)
	if err != nil {
		return err
	}
	u, err := core.Accounts.CreateUser(ctx, *username, *email, password)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s)\n", u.Username, u.ID)
	return nil
}

// setFlag runs the admin commands that switch something on an account.
func setFlag(ctx context.Context, cmd string, args []string, stdout io.Writer) error {
	var username *string
	db, cfg, err := adminSetup(ctx, cmd, args, func(fs *flag.FlagSet) {
		username = fs.String("username", "", "the account")
	})
	if err != nil {
		return err
	}
	defer db.Close()
	core, err := server.NewCore(ctx, db, cfg)
	if err != nil {
		return err
	}
	switch cmd {
	case "disable-user", "enable-user":
		err = core.Accounts.SetDisabled(ctx, *username, cmd == "disable-user")
	default:
		err = core.Accounts.SetAdmin(ctx, *username, cmd == "grant-admin")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s done\n", *username, cmd)
	return nil
}
