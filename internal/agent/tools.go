package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/project"
	"ecode/internal/projectdb"
	"ecode/internal/run"
	"ecode/internal/snapshot"
)

// Projects is what the agent needs of the project capability.
type Projects interface {
	Get(ctx context.Context, actor *auth.User, id string, a access.Action) (*project.Project, error)
	Tree(p *project.Project) *project.Tree
	Checkpoint(ctx context.Context, actor *auth.User, id, message string) (*project.Checkpoint, bool, error)
	Changes(ctx context.Context, actor *auth.User, id, from, to string) ([]project.FileChange, error)
	Touched(ctx context.Context, p *project.Project)
}

// Runner is what the agent needs of the run capability: the sandbox.
type Runner interface {
	Exec(ctx context.Context, actor *auth.User, projectID, command string, timeout time.Duration) (*run.ExecResult, error)
	Start(ctx context.Context, actor *auth.User, projectID string) (*run.View, error)
	Get(ctx context.Context, actor *auth.User, projectID, runID string) (*run.View, error)
	CheckApp(ctx context.Context, actor *auth.User, projectID, path string) (*run.AppCheck, error)
	ConsoleTail(projectID string, n int) string
}

// Databases is what the agent needs of project databases.
type Databases interface {
	Create(ctx context.Context, actor *auth.User, projectID, env string) (projectdb.Info, error)
	Has(ctx context.Context, projectID, env string) (bool, error)
}

// Snapshots keeps a project's data with a checkpoint: the one before a
// run, so that what the run does to the data can be undone with its files.
type Snapshots interface {
	TakeIfData(ctx context.Context, projectID, env, commit, by, reason string) (snapshot.Snapshot, bool, error)
}

// Limits on what tools hand back to the model: enough to act on, little
// enough to keep the context for the work.
const (
	maxToolOutput = 16 << 10
	maxReadFile   = 100 << 10
	maxListed     = 500
)

type tool struct {
	name, description string
	props             map[string]any
	required          []string
	run               func(ctx context.Context, w *workspace, in map[string]any) (string, error)
}

// workspace is one run's view of its project, as the person who started it.
type workspace struct {
	projects Projects
	runs     Runner
	dbs      Databases
	actor    *auth.User
	p        *project.Project
}

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }

var pathProp = str("Path relative to the project root, e.g. src/index.js")

var tools = []tool{
	{name: "list_files", description: "List the project's files and folders with sizes. Installed dependency folders (node_modules, .venv) are shown but not their contents.",
		props: map[string]any{}, run: listFiles},
	{name: "read_file", description: "Read a text file of the project.",
		props: map[string]any{"path": pathProp}, required: []string{"path"}, run: readFile},
	{name: "write_file", description: "Create a file, or replace its whole content. Parent folders are created.",
		props: map[string]any{"path": pathProp, "content": str("The complete new content of the file")}, required: []string{"path", "content"}, run: writeFile},
	{name: "edit_file", description: "Change part of a file: old_text must appear exactly once in it (include enough surrounding lines to make it unique) and is replaced by new_text.",
		props:    map[string]any{"path": pathProp, "old_text": str("Exact text to replace, including whitespace"), "new_text": str("Replacement text")},
		required: []string{"path", "old_text", "new_text"}, run: editFile},
	{name: "delete_file", description: "Delete a file or a folder with everything in it.",
		props: map[string]any{"path": pathProp}, required: []string{"path"}, run: deleteFile},
	{name: "move_file", description: "Move or rename a file or folder.",
		props: map[string]any{"from": pathProp, "to": pathProp}, required: []string{"from", "to"}, run: moveFile},
	{name: "run_command", description: "Run a shell command (sh -c) in the project folder inside the project's Linux sandbox, and wait for it. Node, npm, Python 3 and Go are installed. Do not start long-running servers here; use start_app.",
		props:    map[string]any{"command": str("The shell command"), "timeout_sec": map[string]any{"type": "integer", "description": "Seconds before it is stopped (default 120, at most 600)"}},
		required: []string{"command"}, run: runCommand},
	{name: "install_packages", description: "Install packages and record them in the project's manifest: npm (package.json), pip (requirements.txt) or go (go.mod).",
		props:    map[string]any{"manager": map[string]any{"type": "string", "enum": []string{"npm", "pip", "go"}}, "packages": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}, "dev": map[string]any{"type": "boolean", "description": "npm only: a dev dependency"}},
		required: []string{"manager", "packages"}, run: installPackages},
	{name: "start_app", description: "Start (or restart) the app with the project's run command: `run` in ecode.toml, else a guess from package.json scripts, main.py, go.mod or index.html. Write ecode.toml first (run = \"node server.js\") to choose the command. The app must listen on the port in $PORT (3000). Returns whether it is listening and the console's last lines.",
		props: map[string]any{}, run: startApp},
	{name: "check_app", description: "Send a GET request to the running app through its preview and return the status, content type and the start of the body, to see what a visitor sees (a blank or broken page, an error).",
		props: map[string]any{"path": str("Path to request, default /")}, run: checkApp},
	{name: "create_database", description: "Give the project a PostgreSQL database (its development database; answers the one it has if any). From then on every command gets DATABASE_URL, and PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, so psql works in run_command and the app connects with DATABASE_URL (node: pg, python: psycopg2). Start the app again afterwards so it gets them. Its deployments get a production database of their own, with this one's schema.",
		props: map[string]any{}, run: createDatabase},
	{name: "finish", description: "End the work: say what you built for the person. Call this once, when the app is done and checked.",
		props:    map[string]any{"summary": str("What you built and how to use it, in a few sentences"), "features": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "The features the app has, one short line each"}},
		required: []string{"summary"}},
}

func createDatabase(ctx context.Context, w *workspace, _ map[string]any) (string, error) {
	info, err := w.dbs.Create(ctx, w.actor, w.p.ID, projectdb.Dev)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("The project has its PostgreSQL database %s: DATABASE_URL and the PG* variables are set in every command from now on (psql works); start the app again so it gets them.", info.Name), nil
}

func toolByName(name string) *tool {
	for i := range tools {
		if tools[i].name == name {
			return &tools[i]
		}
	}
	return nil
}

// toolParams describes the tools to the model.
func toolParams() []anthropic.ToolUnionParam {
	out := make([]anthropic.ToolUnionParam, len(tools))
	for i, t := range tools {
		out[i] = anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
			Name:        t.name,
			Description: anthropic.String(t.description),
			InputSchema: anthropic.ToolInputSchemaParam{Properties: t.props, Required: t.required},
		}}
	}
	return out
}

func argString(in map[string]any, key string) (string, error) {
	v, ok := in[key].(string)
	if !ok {
		return "", fmt.Errorf("%s is required and must be a string", key)
	}
	return v, nil
}

func argPath(in map[string]any, key string) (string, error) {
	p, err := argString(in, key)
	if err != nil {
		return "", err
	}
	return project.CleanPath(p)
}

func listFiles(_ context.Context, w *workspace, _ map[string]any) (string, error) {
	entries, truncated, err := w.projects.Tree(w.p).List()
	if err != nil {
		return "", err
	}
	if len(entries) == 0 {
		return "The project is empty.", nil
	}
	var b strings.Builder
	for i, e := range entries {
		if i == maxListed {
			fmt.Fprintf(&b, "[%d more not shown]\n", len(entries)-maxListed)
			break
		}
		if e.Dir {
			fmt.Fprintf(&b, "%s/\n", e.Path)
		} else {
			fmt.Fprintf(&b, "%s (%d bytes)\n", e.Path, e.Size)
		}
	}
	if truncated {
		b.WriteString("[the listing stopped early: the project has very many files]\n")
	}
	return b.String(), nil
}

func readFile(_ context.Context, w *workspace, in map[string]any) (string, error) {
	p, err := argPath(in, "path")
	if err != nil {
		return "", err
	}
	f, err := w.projects.Tree(w.p).Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxReadFile+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	if len(b) > maxReadFile {
		return string(b[:maxReadFile]) + "\n[file truncated at 100 KB]", nil
	}
	if len(b) == 0 {
		return "(empty file)", nil
	}
	return string(b), nil
}

func writeFile(_ context.Context, w *workspace, in map[string]any) (string, error) {
	p, err := argPath(in, "path")
	if err != nil {
		return "", err
	}
	content, err := argString(in, "content")
	if err != nil {
		return "", err
	}
	n, err := w.projects.Tree(w.p).Write(p, strings.NewReader(content))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Wrote %s (%d bytes).", p, n), nil
}

func editFile(ctx context.Context, w *workspace, in map[string]any) (string, error) {
	p, err := argPath(in, "path")
	if err != nil {
		return "", err
	}
	oldText, err := argString(in, "old_text")
	if err != nil {
		return "", err
	}
	newText, err := argString(in, "new_text")
	if err != nil {
		return "", err
	}
	if oldText == "" {
		return "", fmt.Errorf("old_text is empty; use write_file to replace a whole file")
	}
	content, err := readFile(ctx, w, map[string]any{"path": p})
	if err != nil {
		return "", err
	}
	switch n := strings.Count(content, oldText); n {
	case 0:
		return "", fmt.Errorf("old_text does not appear in %s; read the file and copy the text exactly", p)
	case 1:
	default:
		return "", fmt.Errorf("old_text appears %d times in %s; include more surrounding lines so it appears once", n, p)
	}
	if _, err := w.projects.Tree(w.p).Write(p, strings.NewReader(strings.Replace(content, oldText, newText, 1))); err != nil {
		return "", err
	}
	return "Edited " + p + ".", nil
}

func deleteFile(_ context.Context, w *workspace, in map[string]any) (string, error) {
	p, err := argPath(in, "path")
	if err != nil {
		return "", err
	}
	if err := w.projects.Tree(w.p).Delete(p); err != nil {
		return "", err
	}
	return "Deleted " + p + ".", nil
}

func moveFile(ctx context.Context, w *workspace, in map[string]any) (string, error) {
	from, err := argPath(in, "from")
	if err != nil {
		return "", err
	}
	to, err := argPath(in, "to")
	if err != nil {
		return "", err
	}
	if err := w.projects.Tree(w.p).Move(ctx, from, to); err != nil {
		return "", err
	}
	return "Moved " + from + " to " + to + ".", nil
}

// failed is a tool result that reports a failure to the model without
// being an error of the platform: a command that exited non-zero.
type failed struct{ out string }

func (f failed) Error() string { return f.out }

func runCommand(ctx context.Context, w *workspace, in map[string]any) (string, error) {
	cmd, err := argString(in, "command")
	if err != nil {
		return "", err
	}
	timeout := 120 * time.Second
	if v, ok := in["timeout_sec"].(float64); ok && v >= 1 && v <= 600 {
		timeout = time.Duration(v) * time.Second
	}
	return execute(ctx, w, cmd, timeout)
}

func execute(ctx context.Context, w *workspace, cmd string, timeout time.Duration) (string, error) {
	res, err := w.runs.Exec(ctx, w.actor, w.p.ID, cmd, timeout)
	if err != nil {
		return "", err
	}
	out := fmt.Sprintf("exit code %d", res.ExitCode)
	if res.TimedOut {
		out = fmt.Sprintf("stopped after %s (timeout)", timeout)
	}
	out += "\n" + clip(res.Stdout+res.Stderr, maxToolOutput)
	if res.ExitCode != 0 || res.TimedOut {
		return "", failed{out}
	}
	return out, nil
}

// clip keeps the start and the end of long output (errors are usually at
// the end), saying what was left out.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	head, tail := max/4, max*3/4
	return strings.ToValidUTF8(s[:head], "") + fmt.Sprintf("\n[… %d bytes of output left out …]\n", len(s)-head-tail) +
		strings.ToValidUTF8(s[len(s)-tail:], "")
}

var packageName = regexp.MustCompile(`^[A-Za-z0-9@][A-Za-z0-9@/._~^<>=!-]{0,213}$`)

func installPackages(ctx context.Context, w *workspace, in map[string]any) (string, error) {
	manager, err := argString(in, "manager")
	if err != nil {
		return "", err
	}
	raw, _ := in["packages"].([]any)
	var pkgs []string
	for _, v := range raw {
		s, _ := v.(string)
		if !packageName.MatchString(s) {
			return "", fmt.Errorf("%q is not a package name", s)
		}
		pkgs = append(pkgs, "'"+s+"'")
	}
	if len(pkgs) == 0 {
		return "", fmt.Errorf("name at least one package")
	}
	list := strings.Join(pkgs, " ")
	var cmd string
	switch manager {
	case "npm":
		dev := ""
		if d, _ := in["dev"].(bool); d {
			dev = " --save-dev"
		}
		cmd = "[ -f package.json ] || npm init -y >/dev/null; npm install --no-audit --no-fund" + dev + " " + list
	case "pip":
		cmd = "python3 -m pip install --user --break-system-packages " + list + " && for p in " + list + "; do grep -qxF \"$p\" requirements.txt 2>/dev/null || echo \"$p\" >> requirements.txt; done"
	case "go":
		cmd = "go get " + list
	default:
		return "", fmt.Errorf("manager must be npm, pip or go")
	}
	return execute(ctx, w, cmd, 10*time.Minute)
}

func startApp(ctx context.Context, w *workspace, _ map[string]any) (string, error) {
	v, err := w.runs.Start(ctx, w.actor, w.p.ID)
	if err != nil {
		return "", err
	}
	// Wait for the app to listen, or to end, a while: installs run first.
	deadline := time.Now().Add(90 * time.Second)
	wait := 10 * time.Millisecond // most apps listen within tens of milliseconds
	for time.Now().Before(deadline) && (v.Status == "starting" || v.Status == "building" || v.Status == "running") && v.Port == nil {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 250*time.Millisecond)
		if v, err = w.runs.Get(ctx, w.actor, w.p.ID, v.ID); err != nil {
			return "", err
		}
	}
	tail := w.runs.ConsoleTail(w.p.ID, 3000)
	switch {
	case v.Port != nil:
		return fmt.Sprintf("The app is running (`%s`) and listening on port %d. Console:\n%s", v.Command, *v.Port, tail), nil
	case v.Status == "starting" || v.Status == "building" || v.Status == "running":
		return fmt.Sprintf("The app (`%s`) is running but not listening on $PORT yet. Console:\n%s", v.Command, tail), nil
	}
	return "", failed{fmt.Sprintf("The app (`%s`) ended: %s. Console:\n%s", v.Command, v.Status, tail)}
}

func checkApp(ctx context.Context, w *workspace, in map[string]any) (string, error) {
	path, _ := in["path"].(string)
	if path == "" {
		path = "/"
	}
	c, err := w.runs.CheckApp(ctx, w.actor, w.p.ID, path)
	if err != nil {
		return "", err
	}
	if !c.Listening {
		return "", failed{"Nothing is listening: start the app with start_app (it must listen on $PORT)."}
	}
	out := fmt.Sprintf("HTTP %d, Content-Type: %s\n%s", c.Status, c.ContentType, c.Body)
	if c.Truncated {
		out += "\n[body truncated]"
	}
	if c.Status >= 500 {
		return "", failed{out}
	}
	return out, nil
}

// describe is a failure as the model reads it: the platform's own words
// for errors a person would see, the error text otherwise.
func describe(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Message
	}
	return err.Error()
}

// inputKey identifies a call for the loop guard: the same tool with the
// same input.
func inputKey(name string, in map[string]any) string {
	b, _ := json.Marshal(in) // map keys are sorted: equal inputs, equal keys
	return name + " " + string(b)
}
