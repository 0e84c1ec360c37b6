package run

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"ecode/internal/project"
	"ecode/internal/runtime"
	"ecode/internal/safefs"
)

// A project's cache (~/.cache in its sandbox: Go's build and module
// caches, npm's) outlives its sandboxes so that builds stay quick, and is
// held to Options.MaxCacheBytes: measured while the sandbox runs, which is
// stopped when the cache outgrows the limit, and trimmed, oldest files
// first, whenever it is over. Anything in a cache can be fetched or built
// again, so trimming loses only time.
//
// The sandbox writes the cache, so the server, as root, walks it through
// safefs and removes through an os.Root: no link is followed, a link in
// the cache counts as nothing and is never a way to another file.

// cacheTrimTo is the share of the limit an over-full cache is trimmed to,
// so that the next build has room before it reaches the limit again.
const cacheTrimTo = 0.75

func (s *Service) cacheDir(projectID string) string {
	return filepath.Join(s.opts.CacheRoot, projectID)
}

type cachedFile struct {
	path    string
	size    int64
	modTime time.Time
}

// cacheFiles lists the regular files in the cache folder dir and their
// total size.
func cacheFiles(dir string) ([]cachedFile, int64, error) {
	d, err := safefs.OpenDir(dir)
	if err != nil {
		return nil, 0, err
	}
	defer d.Close()
	var files []cachedFile
	var total int64
	err = d.Walk(func(e safefs.Entry) error {
		if !e.Type.IsRegular() {
			return nil // a link, a pipe: nothing to count
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			files = append(files, cachedFile{e.Path, info.Size(), info.ModTime()})
			total += info.Size()
		}
		return nil
	})
	return files, total, err
}

// cacheUsage is the size of the project's cache.
func (s *Service) cacheUsage(projectID string) (int64, error) {
	_, total, err := cacheFiles(s.cacheDir(projectID))
	return total, err
}

// trimCache removes the cache's oldest files until it is well under its
// limit, when it is over it. It reports the size before and after.
func (s *Service) trimCache(projectID string) (before, after int64, err error) {
	limit := s.opts.MaxCacheBytes
	if s.opts.CacheRoot == "" || limit <= 0 {
		return 0, 0, nil
	}
	root, err := os.OpenRoot(s.cacheDir(projectID))
	if err != nil {
		if os.IsNotExist(err) {
			return 0, 0, nil
		}
		return 0, 0, fmt.Errorf("open cache: %w", err)
	}
	defer root.Close()
	files, total, err := cacheFiles(s.cacheDir(projectID))
	if err != nil {
		return 0, 0, fmt.Errorf("measure cache: %w", err)
	}
	before, after = total, total
	if total <= limit {
		return before, after, nil
	}
	slices.SortFunc(files, func(a, b cachedFile) int { return a.modTime.Compare(b.modTime) })
	target := int64(float64(limit) * cacheTrimTo)
	for _, f := range files {
		if after <= target {
			break
		}
		// Remove names the file itself, never what a link points at, and
		// resolves its folders inside the cache only.
		if err := root.Remove(f.path); err == nil || os.IsNotExist(err) {
			after -= f.size
		}
	}
	return before, after, nil
}

// prepareCache trims the project's cache before its sandbox starts.
func (s *Service) prepareCache(spec runtime.Spec) {
	if spec.CacheDir == "" {
		return
	}
	before, after, err := s.trimCache(spec.ID)
	switch {
	case err != nil:
		slog.Warn("trim project cache", "project_id", spec.ID, "err", err)
	case before != after:
		slog.Info("project cache trimmed", "project_id", spec.ID, "before", before, "after", after)
	}
}

// cacheOverrun says, for the console, that the cache is over its limit;
// "" while it is not.
func (s *Service) cacheOverrun(projectID string) string {
	limit := s.opts.MaxCacheBytes
	if s.opts.CacheRoot == "" || limit <= 0 {
		return ""
	}
	used, err := s.cacheUsage(projectID)
	if err != nil || used <= limit {
		return ""
	}
	return fmt.Sprintf("The project's cache (~/.cache) uses %s, over its %s limit: everything running was stopped and the oldest cached files removed. Caches fill again as needed; run again.",
		project.Human(used), project.Human(limit))
}
