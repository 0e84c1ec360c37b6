package deploy

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/andybalholm/brotli"

	"ecode/internal/safefs"
)

// A release folder, <data>/releases/<projectId>/<releaseId>/, is written
// once by the server and never changed:
//
//	site/<path>         the files served, 0444
//	enc/<path>.gz .br   precompressed text files
//	manifest.json       every served path: its ETag, type, size, encodings
//
// Nothing in it came through a name a sandbox controls: the build's output
// is copied out through safefs, which follows no link the build made.

const (
	siteDir      = "site"
	encDir       = "enc"
	manifestFile = "manifest.json"
	// maxReleaseBytes bounds what one release may hold.
	maxReleaseBytes = 2 << 30
	// minCompress: smaller files gain nothing from compression.
	minCompress = 256
)

// asset is one served file as the manifest has it.
type asset struct {
	ETag string `json:"etag"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	Gzip bool   `json:"gzip,omitempty"`
	Br   bool   `json:"br,omitempty"`
}

type manifest map[string]asset // by slash path, relative to site/

// publish copies dir/publicDir into a new release folder at dst, then
// compresses and describes what it holds. Dot names are left out: they are
// never served.
func publish(buildDir, publicDir, dst string) (int, error) {
	src, err := safefs.OpenDir(buildDir)
	if err != nil {
		return 0, fmt.Errorf("open build folder: %w", err)
	}
	defer src.Close()
	pub, err := src.Sub(publicDir)
	switch {
	case errors.Is(err, safefs.ErrLink) || errors.Is(err, safefs.ErrNotRegular) || errors.Is(err, safefs.ErrInvalid):
		return 0, fmt.Errorf("%s/ is not a folder of the build's (a link is never followed)", publicDir)
	case errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("the build made no %s/ folder to serve; set publicDir in [deployment] of ecode.toml", publicDir)
	case err != nil:
		return 0, fmt.Errorf("%s/: %w", publicDir, err)
	}
	defer pub.Close()
	return place(dst, func(tmp string) (int, error) {
		if err := os.MkdirAll(filepath.Join(tmp, siteDir), 0o755); err != nil {
			return 0, fmt.Errorf("create release folder: %w", err)
		}
		site, err := os.OpenRoot(filepath.Join(tmp, siteDir))
		if err != nil {
			return 0, err
		}
		err = safefs.Copy(pub, site, safefs.CopyOptions{MaxBytes: maxReleaseBytes, Skip: func(e safefs.Entry) bool {
			return strings.HasPrefix(e.Name(), ".") || publicDir == "." && e.Path == "node_modules"
		}})
		site.Close()
		if errors.Is(err, safefs.ErrTooLarge) {
			return 0, fmt.Errorf("%s/ holds more than %d GiB", publicDir, maxReleaseBytes>>30)
		}
		if err != nil {
			return 0, fmt.Errorf("copy %s/: %w", publicDir, err)
		}
		m, err := describe(tmp)
		return len(m), err
	})
}

// place makes the release folder dst whole or not at all: fill writes into
// a fresh dst.tmp (the server's own folder, not the build's), which then
// takes dst's name, or is removed.
func place(dst string, fill func(tmp string) (int, error)) (int, error) {
	tmp := dst + ".tmp"
	_ = os.RemoveAll(tmp)
	n, err := fill(tmp)
	if err == nil {
		if err = os.Rename(tmp, dst); err != nil {
			err = fmt.Errorf("place release: %w", err)
		}
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return 0, err
	}
	return n, nil
}

// describe hashes, types and compresses every file below dir/site, writes
// the manifest, and leaves every file read-only.
func describe(dir string) (manifest, error) {
	m := manifest{}
	root := filepath.Join(dir, siteDir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		a, err := describeFile(dir, p, rel)
		if err != nil {
			return fmt.Errorf("prepare %s: %w", rel, err)
		}
		m[rel] = a
		return os.Chmod(p, 0o444)
	})
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, manifestFile), raw, 0o444); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	return m, nil
}

func describeFile(dir, p, rel string) (asset, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return asset{}, err
	}
	sum := sha256.Sum256(data)
	a := asset{ETag: hex.EncodeToString(sum[:12]), Size: int64(len(data)), Type: mime.TypeByExtension(path.Ext(rel))}
	if a.Type == "" {
		a.Type = http.DetectContentType(data)
	}
	if len(data) < minCompress || !compressible(a.Type) {
		return a, nil
	}
	enc := filepath.Join(dir, encDir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(enc), 0o755); err != nil {
		return a, err
	}
	if a.Gzip, err = writeSmaller(enc+".gz", data, func(w io.Writer) (io.WriteCloser, error) {
		return gzip.NewWriterLevel(w, gzip.BestCompression)
	}); err != nil {
		return a, err
	}
	a.Br, err = writeSmaller(enc+".br", data, func(w io.Writer) (io.WriteCloser, error) {
		return brotli.NewWriterLevel(w, brotliLevel), nil
	})
	return a, err
}

// brotliLevel: 11 compresses a few percent better at many times the cost,
// which a deploy of a large bundle would feel.
const brotliLevel = 9

// writeSmaller compresses data into name, keeping it only if smaller.
func writeSmaller(name string, data []byte, newWriter func(io.Writer) (io.WriteCloser, error)) (bool, error) {
	var b strings.Builder
	w, err := newWriter(&b)
	if err != nil {
		return false, err
	}
	if _, err := w.Write(data); err != nil {
		return false, err
	}
	if err := w.Close(); err != nil {
		return false, err
	}
	if b.Len() >= len(data)*9/10 {
		return false, nil
	}
	return true, os.WriteFile(name, []byte(b.String()), 0o444)
}

// compressible reports whether a type is text worth compressing.
func compressible(ctype string) bool {
	t, _, _ := strings.Cut(ctype, ";")
	t = strings.TrimSpace(t)
	return strings.HasPrefix(t, "text/") || strings.HasSuffix(t, "+xml") || strings.HasSuffix(t, "+json") ||
		t == "application/javascript" || t == "application/json" || t == "application/xml" ||
		t == "application/wasm" || t == "image/svg+xml" || t == "application/manifest+json" || t == "image/x-icon" ||
		t == "image/vnd.microsoft.icon"
}

func readManifest(dir string) (manifest, error) {
	raw, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("release manifest: %w", err)
	}
	return m, nil
}
