package project

import (
	"context"
	"log/slog"
	"time"

	"ecode/internal/events"
	"ecode/internal/store"
)

// Listed is a project as the dashboard lists it: besides the project, its
// language, when its files last changed and whether its app is running.
type Listed struct {
	*Project
	// Language is the template's ("javascript", "python", "go", ...), or
	// for a blank or imported project one read from its top-level files;
	// "" when neither tells.
	Language string `json:"language"`
	// LastEditedAt is the latest file change or checkpoint (unix ms).
	LastEditedAt int64 `json:"lastEditedAt"`
	// Running: a run is starting or running now.
	Running bool `json:"running"`
}

// editSaveEvery bounds how often editing (many writes a minute in a live
// document) records the time in the database; between records the last
// write's time is held in memory.
const editSaveEvery = time.Minute

// followEdits keeps each project's last edit as its files change (through
// the editor, the API, the agent or a run), and forgets a deleted one's.
func (s *Service) followEdits() {
	events.Subscribe(s.bus, func(ctx context.Context, e FilesChanged) { s.edited(ctx, e.ProjectID) })
	events.Subscribe(s.bus, func(_ context.Context, e Deleted) {
		s.mu.Lock()
		delete(s.edits, e.ProjectID)
		s.mu.Unlock()
	})
}

// edited records that a file of project id changed just now.
func (s *Service) edited(ctx context.Context, id string) {
	now := store.Now()
	s.mu.Lock()
	last := s.edits[id]
	s.edits[id] = now
	s.mu.Unlock()
	if now-last < editSaveEvery.Milliseconds() {
		return
	}
	// Bookkeeping after the change: it outlives a request that ended.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := touchProject(ctx, s.db, id, now); err != nil {
		slog.Warn("record project edit", "project_id", id, "err", err)
	}
}

// listed adds to p what the dashboard shows beside it.
func (s *Service) listed(p *Project) Listed {
	l := Listed{Project: p, LastEditedAt: p.UpdatedAt}
	s.mu.Lock()
	l.LastEditedAt = max(l.LastEditedAt, s.edits[p.ID])
	s.mu.Unlock()
	if s.runs != nil {
		l.Running = s.runs.Running(p.ID)
	}
	l.Language = s.templates.language(p.Template)
	if l.Language == "" || l.Language == "text" {
		if found := s.Tree(p).language(); found != "" || l.Language == "" {
			l.Language = found
		}
	}
	return l
}

// language is template id's language, "" for none or an unknown template.
func (c *Catalog) language(id string) string {
	return c.byID[id].Language
}

// markers are top-level files that give a project's language away, most
// telling first: a TypeScript project has a package.json too.
var markers = []struct{ file, language string }{
	{"go.mod", "go"},
	{"main.go", "go"},
	{"tsconfig.json", "typescript"},
	{"package.json", "javascript"},
	{"index.js", "javascript"},
	{"pyproject.toml", "python"},
	{"requirements.txt", "python"},
	{"main.py", "python"},
	{"app.py", "python"},
	{"index.html", "html"},
}

// language guesses the tree's language from its top-level files, looking
// at a fixed few names (never listing a folder sandbox code can fill).
func (t *Tree) language() string {
	d, err := t.safe()
	if err != nil {
		return ""
	}
	defer d.Close()
	for _, m := range markers {
		if info, err := d.Lstat(m.file); err == nil && info.Mode().IsRegular() {
			return m.language
		}
	}
	return ""
}
