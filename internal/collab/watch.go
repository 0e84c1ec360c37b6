package collab

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"ecode/internal/events"
	"ecode/internal/project"
	"ecode/internal/safefs"
)

// watcher follows a project's folder while someone is in the project, so
// changes made outside the editors (a run, the agent, a restore, another
// tool) reach open documents and every tab's file tree.
type watcher struct {
	w    *fsnotify.Watcher
	root string
	once sync.Once
}

// skipDir: history and installed dependencies change a lot and are no
// one's document.
func skipDir(name string) bool {
	return name == ".git" || name == "node_modules" || name == ".venv" || name == "__pycache__" || strings.HasPrefix(name, ".ecode-")
}

const maxWatched = 2000

func (s *Service) watch(projectID string, tree *project.Tree) *watcher {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		s.log.Warn("watch project files", "project_id", projectID, "err", err)
		return &watcher{}
	}
	w := &watcher{w: fw, root: tree.Dir()}
	w.addTree(".")
	go s.follow(projectID, w)
	return w
}

// addTree watches rel (a folder of the project, "." for its root) and the
// folders below it. The tree is sandbox-written, so it is walked through
// safefs: no link is followed, and a folder that is a link by the time it
// is listed is not watched. (inotify itself follows a path that became a
// link in the instant after: all that could then reach the tabs is the
// names of changes there, never contents, which are read through Tree.)
func (w *watcher) addTree(rel string) {
	root, err := safefs.OpenDir(w.root)
	if err != nil {
		return
	}
	defer root.Close()
	d := root
	if rel != "." {
		if d, err = root.Sub(rel); err != nil {
			return
		}
		defer d.Close()
	}
	_ = w.w.Add(filepath.Join(w.root, rel))
	n := 1
	_ = d.Walk(func(e safefs.Entry) error {
		if !e.IsDir() {
			return nil
		}
		if skipDir(e.Name()) {
			return fs.SkipDir
		}
		if n++; n > maxWatched {
			return fs.SkipAll
		}
		_ = w.w.Add(filepath.Join(w.root, rel, e.Path))
		return nil
	})
}

func (w *watcher) close() {
	if w.w != nil {
		w.once.Do(func() { _ = w.w.Close() })
	}
}

// follow turns file events into document updates and, at most every
// 100 ms, a files.changed to the project's tabs.
func (s *Service) follow(projectID string, w *watcher) {
	var tick <-chan time.Time
	changed := map[string]bool{}
	for {
		select {
		case ev, ok := <-w.w.Events:
			if !ok {
				return
			}
			rel, err := filepath.Rel(w.root, ev.Name)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			rel = filepath.ToSlash(rel)
			if skipped(rel) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				w.addTree(rel) // a new folder; anything else is refused by Sub
			}
			changed[rel] = true
			if tick == nil {
				tick = time.After(100 * time.Millisecond)
			}
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			slog.Debug("project watcher", "project_id", projectID, "err", err)
		case <-tick:
			tick = nil
			s.filesChanged(projectID, changed)
			changed = map[string]bool{}
		}
	}
}

func skipped(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		if skipDir(part) {
			return true
		}
	}
	return false
}

// filesChanged brings open documents in line with their files and tells
// every tab, and the bus (changes from inside the sandbox are seen only
// here), that the tree changed.
func (s *Service) filesChanged(projectID string, paths map[string]bool) {
	events.Publish(context.Background(), s.bus, project.FilesChanged{ProjectID: projectID})
	s.mu.Lock()
	r := s.rooms[projectID]
	type open struct {
		path string
		d    *doc
	}
	var docs []open
	if r != nil {
		for path := range paths {
			if d := r.docs[path]; d != nil {
				docs = append(docs, open{path, d})
			}
		}
	}
	s.mu.Unlock()
	if r == nil {
		return
	}
	for _, o := range docs {
		saves := o.d.saveCount()
		text, err := s.read(r.tree, o.path)
		switch {
		case err == nil:
			o.d.external(text, saves)
		case os.IsNotExist(err) || isNotFound(err):
			s.deleted(projectID, o.path, o.d)
		}
	}
	for _, p := range s.roomPeers(projectID) {
		p.send(Message{Type: "files.changed"})
	}
}

// deleted drops the document of a file that is gone and tells its tabs.
func (s *Service) deleted(projectID, path string, d *doc) {
	d.mu.Lock()
	subs := d.peers()
	d.subs = map[*Peer]bool{}
	d.mu.Unlock()
	s.mu.Lock()
	if r := s.rooms[projectID]; r != nil && r.docs[path] == d {
		delete(r.docs, path)
	}
	s.mu.Unlock()
	for _, p := range subs {
		p.mu.Lock()
		delete(p.docs, path)
		p.mu.Unlock()
		p.send(Message{Type: "doc.deleted", Path: path})
	}
}
