package project

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"ecode/internal/errs"
)

// Template is a starting point for a new project: a folder of files plus
// the metadata in its template.json, which is not copied.
type Template struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Language    string   `json:"language"`
	Tags        []string `json:"tags"`
}

const templateMeta = "template.json"

// Catalog is the set of templates, read once from an embedded folder.
type Catalog struct {
	fsys fs.FS
	list []Template
	byID map[string]Template
}

// NewCatalog reads every folder of fsys that holds a template.json.
func NewCatalog(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{fsys: fsys, byID: map[string]Template{}}
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read templates: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		raw, err := fs.ReadFile(fsys, path.Join(d.Name(), templateMeta))
		if err != nil {
			continue
		}
		t := Template{ID: d.Name(), Tags: []string{}}
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("template %s: %w", d.Name(), err)
		}
		t.ID = d.Name()
		c.list = append(c.list, t)
		c.byID[t.ID] = t
	}
	sort.Slice(c.list, func(i, j int) bool { return c.list[i].Name < c.list[j].Name })
	return c, nil
}

// List returns the templates by name.
func (c *Catalog) List() []Template { return c.list }

// CopyTo writes template id's files into dir.
func (c *Catalog) CopyTo(id, dir string) error {
	if _, ok := c.byID[id]; !ok {
		return errs.Invalid("unknown_template", "There is no template %q; see GET /api/templates.", id)
	}
	sub, err := fs.Sub(c.fsys, id)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." || p == templateMeta {
			return err
		}
		// X.template is stored so for Go's sake (see package templates).
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimSuffix(p, ".template")))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		src, err := sub.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, src); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
