package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Hosts is what `ecode login` remembers: a token per server, and which
// server commands talk to when --host does not say.
type Hosts struct {
	Current string                `json:"current,omitempty"`
	Hosts   map[string]Credential `json:"hosts"`
}

// Credential is the token a host accepted and whose it is.
type Credential struct {
	Token    string `json:"token"`
	Username string `json:"username"`
}

// configDir is where hosts.json lives: $ECODE_CONFIG_DIR, or ecode/ in the
// user's config folder (~/.config/ecode on Linux).
func configDir(getenv func(string) string) (string, error) {
	if d := getenv("ECODE_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config folder (set ECODE_CONFIG_DIR): %w", err)
	}
	return filepath.Join(base, "ecode"), nil
}

func loadHosts(dir string) (*Hosts, error) {
	h := &Hosts{Hosts: map[string]Credential{}}
	raw, err := os.ReadFile(filepath.Join(dir, "hosts.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return h, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read credentials: %w", err)
	}
	if err := json.Unmarshal(raw, h); err != nil {
		return nil, fmt.Errorf("read credentials %s: %w", filepath.Join(dir, "hosts.json"), err)
	}
	if h.Hosts == nil {
		h.Hosts = map[string]Credential{}
	}
	return h, nil
}

// save writes hosts.json readable by the user alone, replacing it whole so
// a crash never leaves half a file of tokens.
func (h *Hosts) save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	raw, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	f, err := os.CreateTemp(dir, ".hosts-*.json") // CreateTemp makes it 0600
	if err != nil {
		return fmt.Errorf("save credentials: %w", err)
	}
	_, err = f.Write(append(raw, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, "hosts.json"))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("save credentials: %w", err)
	}
	return nil
}

// normalizeHost turns what a person types (ecode.example.com,
// http://localhost:8080/) into the base URL credentials are kept under.
// A bare name means https.
func normalizeHost(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", usageErrorf("the host is empty")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return "", usageErrorf("%q is not a server address; give one such as https://ecode.example.com", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", usageErrorf("%q has a path; give the server's address alone, such as %s://%s", s, u.Scheme, u.Host)
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// LinkFile names the file in a folder that links it to a project, so
// commands run there need no --project.
const LinkFile = ".ecode.json"

// Link is the content of LinkFile.
type Link struct {
	Host    string `json:"host"`
	Project string `json:"project"` // the project's id
}

// readLink returns dir's link, or nil when dir has none.
func readLink(dir string) (*Link, error) {
	raw, err := os.ReadFile(filepath.Join(dir, LinkFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", LinkFile, err)
	}
	var l Link
	if err := json.Unmarshal(raw, &l); err != nil || l.Project == "" {
		return nil, fmt.Errorf("%s in %s is not a project link; remove it or pass --project", LinkFile, dir)
	}
	return &l, nil
}

// findLink returns the link of dir or of the nearest folder above it that
// has one, and that folder; nil when none has.
func findLink(dir string) (*Link, string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", fmt.Errorf("find %s: %w", dir, err)
	}
	for {
		l, err := readLink(d)
		if l != nil || err != nil {
			return l, d, err
		}
		up := filepath.Dir(d)
		if up == d {
			return nil, "", nil
		}
		d = up
	}
}

// writeLink links the folder open as root to a project.
func writeLink(root *os.Root, l Link) error {
	raw, _ := json.MarshalIndent(l, "", "  ")
	if _, err := writeFile(root, LinkFile, bytes.NewReader(append(raw, '\n'))); err != nil {
		return fmt.Errorf("link the folder to its project: %w", err)
	}
	return nil
}
