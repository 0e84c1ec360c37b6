package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"ecode/internal/errs"
	"ecode/internal/gpu"
	"ecode/internal/project"
	"ecode/internal/run"
)

// Deployment types.
const (
	Static    = "static"
	Autoscale = "autoscale"
	VM        = "vm"
	Scheduled = "scheduled"
)

// Config is the [deployment] table of a project's ecode.toml. Only static
// deploys are built so far; the other keys are checked now so that what
// a person writes stays valid when their types arrive.
type Config struct {
	Target       string `toml:"target,omitempty" json:"target"`
	Build        string `toml:"build,omitempty" json:"build"`
	Run          string `toml:"run,omitempty" json:"run"`
	PublicDir    string `toml:"publicDir,omitempty" json:"publicDir"`
	MaxInstances int    `toml:"maxInstances,omitempty" json:"maxInstances"`
	MinInstances int    `toml:"minInstances,omitempty" json:"minInstances"`
	Concurrency  int    `toml:"concurrency,omitempty" json:"concurrency"`
	Schedule     string `toml:"schedule,omitempty" json:"schedule"`
	TimeZone     string `toml:"timeZone,omitempty" json:"timeZone"`
	Timeout      int    `toml:"timeout,omitempty" json:"timeout"` // seconds
	HealthPath   string `toml:"healthPath,omitempty" json:"healthPath"`
	// GPU is what each instance asks for: "" none, else a gpu.ParseWant
	// key ("any", "whole", "mig-1g.10gb").
	GPU string `toml:"gpu,omitempty" json:"gpu"`
}

// Settings are a project's deployment settings as the API shows them:
// the config with defaults filled, and what a deploy will do with it.
type Settings struct {
	Config
	// Install runs before the build in the fresh build folder: the run
	// configuration's install, as dependencies are not committed.
	Install string `json:"install"`
	// Serves says in words what a static deploy serves.
	Serves string `json:"serves"`
	// Cron and Sentence are a scheduled deployment's schedule as cron and
	// in words; empty for the other types.
	Cron     string `json:"cron"`
	Sentence string `json:"sentence"`
	// GPUKinds is what the deployment may ask for here, or why nothing.
	GPUKinds gpu.Offer `json:"gpuKinds"`
}

const maxCommand = 4096

// validate checks c, naming the first bad key; a schedule may not run
// twice within floor.
func (c Config) validate(floor time.Duration) error {
	bad := func(key, format string, a ...any) error {
		return errs.Invalid("invalid_deployment", "[deployment] %s: %s", key, fmt.Sprintf(format, a...))
	}
	switch c.Target {
	case "", Static, Autoscale, VM, Scheduled:
	default:
		return bad("target", "%q is not a deployment type; use static, autoscale, vm or scheduled", c.Target)
	}
	for key, v := range map[string]string{"build": c.Build, "run": c.Run, "schedule": c.Schedule} {
		if len(v) > maxCommand || strings.ContainsRune(v, 0) {
			return bad(key, "at most %d bytes of text", maxCommand)
		}
	}
	if c.PublicDir != "" && c.PublicDir != "." {
		if clean, err := project.CleanPath(c.PublicDir); err != nil || clean != strings.TrimSuffix(c.PublicDir, "/") {
			return bad("publicDir", "%q is not a folder inside the project", c.PublicDir)
		}
	}
	switch {
	case c.MaxInstances < 0 || c.MaxInstances > 100:
		return bad("maxInstances", "between 0 and 100")
	case c.MinInstances < 0 || c.MaxInstances > 0 && c.MinInstances > c.MaxInstances:
		return bad("minInstances", "between 0 and maxInstances")
	case c.Concurrency < 0 || c.Concurrency > 1000:
		return bad("concurrency", "between 0 and 1000")
	case c.Timeout < 0 || c.Timeout > 86400:
		return bad("timeout", "between 0 and 86400 seconds")
	case c.HealthPath != "" && (!strings.HasPrefix(c.HealthPath, "/") || len(c.HealthPath) > 1024 || strings.ContainsAny(c.HealthPath, " \t\r\n")):
		return bad("healthPath", "a path such as /health")
	case c.Target == Scheduled && c.Timeout > maxExecTimeout:
		return bad("timeout", "a scheduled run may take at most %d seconds", maxExecTimeout)
	}
	if _, ok, err := gpu.ParseWant(c.GPU); err != nil {
		return bad("gpu", "%q is not a GPU choice; use any, whole or mig- and a MIG profile (mig-1g.10gb)", c.GPU)
	} else if ok && !isApp(c.Target) {
		return bad("gpu", "only autoscale and vm deployments run on a GPU")
	}
	if c.Target == Scheduled {
		if _, err := parseSchedule(c.Schedule, c.TimeZone, floor); err != nil {
			return err
		}
	} else if c.TimeZone != "" && len(c.TimeZone) > 64 {
		return bad("timeZone", "a time zone such as Europe/Paris")
	}
	return nil
}

// file is what deploys read of ecode.toml: the run configuration's
// commands and the [deployment] table.
type file struct {
	Build      string         `toml:"build"`
	Install    string         `toml:"install"`
	Run        string         `toml:"run"`
	Deployment map[string]any `toml:"deployment"`
}

// readSettings reads the project's deployment settings, defaults filled:
// static; the build of [deployment], else the run configuration's, else
// the package's build script; publicDir dist when there is a build, else
// the project's root.
func readSettings(tree *project.Tree, floor time.Duration) (Settings, error) {
	var f file
	raw, err := tree.ReadFile(run.ConfigFile, run.MaxManifest)
	switch {
	case err == nil:
		if _, err := toml.Decode(string(raw), &f); err != nil {
			return Settings{}, errs.Invalid("invalid_deployment", "ecode.toml is not valid TOML: %v", err)
		}
	case !errs.Is(err, errs.KindNotFound):
		return Settings{}, err
	default:
		if guessed, source, err := run.LoadConfig(tree); err == nil && source != run.FromNone {
			f.Install, f.Build, f.Run = guessed.Install, guessed.Build, guessed.Run
		}
	}
	c, err := decodeTable(f.Deployment, floor)
	if err != nil {
		return Settings{}, err
	}
	if c.Target == "" {
		c.Target = Static
	}
	if c.Build == "" {
		c.Build = f.Build
	}
	if c.Build == "" && hasBuildScript(tree) {
		c.Build = "npm run build"
	}
	if c.Run == "" {
		c.Run = f.Run
	}
	if c.Target != Static && strings.TrimSpace(c.Run) == "" {
		return Settings{}, errs.Invalid("invalid_deployment", "[deployment] run: %s deployments need a run command (or run in ecode.toml)", c.Target)
	}
	if c.PublicDir == "" {
		c.PublicDir = "."
		if c.Build != "" {
			c.PublicDir = "dist"
		}
	}
	c.PublicDir = strings.TrimSuffix(c.PublicDir, "/")
	s := Settings{Config: c, Install: f.Install}
	if c.Target == Scheduled {
		sched, err := parseSchedule(c.Schedule, c.TimeZone, floor)
		if err != nil {
			return Settings{}, err
		}
		s.Cron, s.Sentence = sched.Cron, sched.Sentence
		s.Serves = "no address: a scheduled deployment runs its command on its schedule"
		return s, nil
	}
	if c.PublicDir == "." {
		s.Serves = "the project's files as committed"
	} else {
		s.Serves = "the " + c.PublicDir + "/ folder the build makes"
	}
	return s, nil
}

// decodeTable turns the [deployment] table into a Config, refusing keys
// it does not know and values of the wrong type by name.
func decodeTable(t map[string]any, floor time.Duration) (Config, error) {
	var c Config
	fields := map[string][]int{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		fields[name] = f.Index
	}
	v := reflect.ValueOf(&c).Elem()
	for k, val := range t {
		idx, ok := fields[k]
		if !ok {
			return c, errs.Invalid("invalid_deployment", "[deployment] %s: not a deployment setting", k)
		}
		f := v.FieldByIndex(idx)
		switch f.Kind() {
		case reflect.String:
			s, ok := val.(string)
			if !ok {
				return c, errs.Invalid("invalid_deployment", "[deployment] %s: must be text in quotes", k)
			}
			f.SetString(s)
		case reflect.Int:
			n, ok := val.(int64)
			if !ok {
				return c, errs.Invalid("invalid_deployment", "[deployment] %s: must be a whole number", k)
			}
			f.SetInt(n)
		}
	}
	return c, c.validate(floor)
}

func hasBuildScript(tree *project.Tree) bool {
	raw, err := tree.ReadFile("package.json", run.MaxManifest)
	if err != nil {
		return false
	}
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	return json.Unmarshal(raw, &pkg) == nil && pkg.Scripts["build"] != ""
}

// writeConfig sets the [deployment] table of the project's ecode.toml to
// c, keeping the rest of the file as it is: the table's lines are replaced
// in place when that leaves every other key the same, and the whole file
// is written anew from its values only when it would not.
func writeConfig(tree *project.Tree, c Config, floor time.Duration) error {
	if err := c.validate(floor); err != nil {
		return err
	}
	raw, err := tree.ReadFile(run.ConfigFile, run.MaxManifest)
	switch {
	case errs.Is(err, errs.KindNotFound):
		// Keep Run working: write down the run configuration it would guess.
		if guessed, source, err := run.LoadConfig(tree); err == nil && source == run.FromGuess {
			raw, _ = guessed.Encode()
		}
	case err != nil:
		return err
	}
	var before map[string]any
	if _, err := toml.Decode(string(raw), &before); err != nil {
		return errs.Invalid("invalid_deployment", "ecode.toml is not valid TOML: %v", err)
	}
	var table bytes.Buffer
	table.WriteString("[deployment]\n")
	if err := toml.NewEncoder(&table).Encode(c); err != nil {
		return fmt.Errorf("encode deployment: %w", err)
	}
	out := spliceTable(string(raw), table.String())
	var after map[string]any
	if _, err := toml.Decode(out, &after); err != nil || !sameOutside(before, after) {
		delete(before, "deployment")
		var b bytes.Buffer
		if err := toml.NewEncoder(&b).Encode(before); err != nil {
			return fmt.Errorf("encode ecode.toml: %w", err)
		}
		out = b.String() + "\n" + table.String()
	}
	// What the table leaves out is the run configuration's: refused before
	// it is written when that has no run command either.
	var f file
	if _, err := toml.Decode(out, &f); err == nil && c.Target != "" && c.Target != Static && strings.TrimSpace(c.Run+f.Run) == "" {
		return errs.Invalid("invalid_deployment", "[deployment] run: %s deployments need a run command (or run in ecode.toml)", c.Target)
	}
	_, err = tree.Write(run.ConfigFile, strings.NewReader(out))
	return err
}

var tableHeader = regexp.MustCompile(`^\s*\[`)
var deploymentHeader = regexp.MustCompile(`^\s*\[\s*deployment\s*\]\s*(#.*)?$`)

// spliceTable replaces the lines of the [deployment] table in doc with
// table, or appends table when doc has none.
func spliceTable(doc, table string) string {
	lines := strings.SplitAfter(doc, "\n")
	var out strings.Builder
	in, done := false, false
	for _, l := range lines {
		switch {
		case deploymentHeader.MatchString(strings.TrimRight(l, "\r\n")):
			in = true
			if !done {
				out.WriteString(table)
				done = true
			}
			continue
		case in && tableHeader.MatchString(l):
			in = false
			out.WriteString("\n")
		case in:
			continue
		}
		out.WriteString(l)
	}
	if !done {
		s := out.String()
		if s != "" && !strings.HasSuffix(s, "\n") {
			out.WriteString("\n")
		}
		if s != "" {
			out.WriteString("\n")
		}
		out.WriteString(table)
	}
	return out.String()
}

// sameOutside reports whether a and b agree on everything but [deployment].
func sameOutside(a, b map[string]any) bool {
	a, b = maps.Clone(a), maps.Clone(b)
	delete(a, "deployment")
	delete(b, "deployment")
	return reflect.DeepEqual(a, b)
}
