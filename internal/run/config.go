package run

import (
	"bytes"
	"encoding/json"
	"regexp"

	"github.com/BurntSushi/toml"

	"ecode/internal/errs"
	"ecode/internal/project"
)

// ConfigFile is the project's run configuration, at the project root.
const ConfigFile = "ecode.toml"

// Config says how a project runs.
type Config struct {
	Run     string            `toml:"run" json:"run"`
	Install string            `toml:"install,omitempty" json:"install"`
	Build   string            `toml:"build,omitempty" json:"build"`
	Env     map[string]string `toml:"env,omitempty" json:"env,omitempty"`
}

// Config sources.
const (
	FromFile  = "ecode.toml"
	FromGuess = "guess"
	FromNone  = "none"
)

// MaxManifest bounds the ecode.toml or package.json the server reads:
// code in the sandbox writes them, and one pointed at an endless file must
// not take the server's memory.
const MaxManifest = 1 << 20

// LoadConfig reads ecode.toml from the project's tree, or guesses from its
// files when there is none. The source says which.
func LoadConfig(tree *project.Tree) (Config, string, error) {
	var c Config
	raw, err := tree.ReadFile(ConfigFile, MaxManifest)
	switch {
	case err == nil:
		if _, err := toml.Decode(string(raw), &c); err != nil {
			return c, FromFile, errs.Invalid("invalid_config", "ecode.toml is not valid TOML: %v", err)
		}
		if c.Run == "" {
			return c, FromFile, errs.Invalid("invalid_config", "ecode.toml has no run command; add a line like: run = \"npm start\"")
		}
		return c, FromFile, nil
	case !errs.Is(err, errs.KindNotFound):
		return c, FromNone, err
	}
	if c, ok := guess(tree); ok {
		return c, FromGuess, nil
	}
	return c, FromNone, nil
}

// simpleNode is a start script that is just node and a file.
var simpleNode = regexp.MustCompile(`^node [\w./-]+$`)

// guess picks a run command from the files a project holds.
func guess(tree *project.Tree) (Config, bool) {
	has := tree.Exists
	if has("package.json") {
		var pkg struct {
			Scripts map[string]string `json:"scripts"`
			Main    string            `json:"main"`
		}
		raw, _ := tree.ReadFile("package.json", MaxManifest)
		_ = json.Unmarshal(raw, &pkg)
		c := Config{Install: "npm install"}
		switch {
		case pkg.Scripts["dev"] != "" && pkg.Scripts["start"] == "":
			c.Run = "npm run dev"
		case simpleNode.MatchString(pkg.Scripts["start"]):
			// npm itself takes most of a second to start: run plain node directly.
			c.Run = pkg.Scripts["start"]
		case pkg.Scripts["start"] != "":
			c.Run = "npm start"
		case pkg.Main != "":
			c.Run = "node " + pkg.Main
		case has("index.js"):
			c.Run = "node index.js"
		default:
			return Config{}, false
		}
		return c, true
	}
	for _, f := range []struct{ file, run string }{
		{"main.py", "python3 main.py"},
		{"app.py", "python3 app.py"},
		{"go.mod", "go run ."},
		{"main.go", "go run main.go"},
		{"index.js", "node index.js"},
		{"index.html", "python3 -m http.server $PORT --bind 0.0.0.0"},
	} {
		if has(f.file) {
			return Config{Run: f.run}, true
		}
	}
	return Config{}, false
}

// Encode renders c as ecode.toml, with a comment saying what each key does.
func (c Config) Encode() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# How E-Code runs this project. Edit freely.\n")
	b.WriteString("# run: the command Run starts; install: runs first when dependencies change.\n")
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
