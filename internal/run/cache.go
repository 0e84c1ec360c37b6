package run

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"ecode/internal/project"
	"ecode/internal/runtime"
)

// A project's cache (~/.cache in its sandbox: Go's build and module
// caches, npm's) outlives its sandboxes so that builds stay quick, and is
// held to Options.MaxCacheBytes: measured while the sandbox runs, which is
// stopped when the cache outgrows the limit, and trimmed, oldest files
// first, whenever it is over. Anything in a cache can be fetched or built
// again, so trimming loses only time.
//
// The sandbox writes the cache, so the server, as root, walks it only
// through an os.Root and never follows a link: a link in the cache counts
// as nothing and is never a way to another file.

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

// cacheFiles lists the regular files in root and their total size.
func cacheFiles(root *os.Root) ([]cachedFile, int64) {
	var files []cachedFile
	var total int64
	_ = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil // a folder that vanished, a link, a pipe: nothing to count
		}
		if info, err := d.Info(); err == nil {
			files = append(files, cachedFile{p, info.Size(), info.ModTime()})
			total += info.Size()
		}
		return nil
	})
	return files, total
}

// cacheUsage is the size of the project's cache.
func (s *Service) cacheUsage(projectID string) (int64, error) {
	root, err := os.OpenRoot(s.cacheDir(projectID))
	if err != nil {
		return 0, err
	}
	defer root.Close()
	_, total := cacheFiles(root)
	return total, nil
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
	files, total := cacheFiles(root)
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
