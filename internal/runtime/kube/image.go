package kube

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"ecode/internal/runtime"
	"ecode/internal/runtime/rootfs"
)

// sandboxPrograms are what a sandbox image carries besides the programs
// every image does: what people type in a shell, git with its helpers, and
// the Go toolchain where the host has it.
var sandboxPrograms = []string{
	"/usr/local/go",
	"git", "ssh", "curl", "ps", "less", "stty", "tty", "clear", "tput", "which", "diff", "make", "nano", "vi", "du", "df", "stat", "md5sum", "sha256sum", "hostname", "seq", "awk", "expr", "nproc", "timeout", "kill", "mktemp", "realpath", "readlink", "whoami", "xz", "unzip", "zip",
	"/usr/lib/git-core", "/usr/share/git-core",
}

// SandboxImage is the root file system of a sandbox pod: the host's
// toolchain and the agent binary as PID 1.
func SandboxImage(agentBinary string) (rootfs.FS, error) {
	fsys, err := rootfs.Host(sandboxPrograms...)
	if err != nil {
		return nil, fmt.Errorf("collect the sandbox image: %w", err)
	}
	fsys.Dir("/opt", 0o755, 0)
	fsys.Dir("/opt/sbx", 0o755, 0)
	fsys.Dir(runtime.ToolCache, 0o755, 0)
	if err := fsys.Copy(runtime.AgentBinary, agentBinary, 0o755); err != nil {
		return nil, fmt.Errorf("add the agent to the sandbox image: %w", err)
	}
	return fsys, nil
}

// image builds fsys into a one-layer image.
func image(fsys rootfs.FS) (v1.Image, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(fsys.Write(pw)) }()
		return pr, nil
	}, tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	return mutate.Config(img, v1.Config{
		Entrypoint: []string{runtime.AgentBinary},
		WorkingDir: runtime.ProjectDir,
		Env:        runtime.BaseEnv(false),
		User:       "65534:65534",
	})
}

// Push makes the image of fsys and pushes it to repo (REGISTRY/PATH),
// tagged by the hash of what is in it, unless the registry has it already.
// It returns the image's reference.
func Push(ctx context.Context, fsys rootfs.FS, repo string) (string, error) {
	tag, err := name.NewTag(repo + ":" + fsys.Hash()[:20])
	if err != nil {
		return "", fmt.Errorf("image name %s: %w", repo, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	if _, err := remote.Head(tag, opts...); err == nil {
		return tag.String(), nil
	} else if !notFound(err) {
		return "", fmt.Errorf("reach the image registry %s: %w", tag.RegistryStr(), err)
	}
	img, err := image(fsys)
	if err != nil {
		return "", fmt.Errorf("make the image: %w", err)
	}
	if err := remote.Write(tag, img, opts...); err != nil {
		return "", fmt.Errorf("push %s: %w", tag, err)
	}
	return tag.String(), nil
}

// Save writes the image of fsys as a docker archive at path, for a node
// that reaches no registry (`ctr -n k8s.io images import`); it returns
// the image's reference.
func Save(fsys rootfs.FS, repo, path string) (string, error) {
	tag, err := name.NewTag(repo + ":" + fsys.Hash()[:20])
	if err != nil {
		return "", fmt.Errorf("image name %s: %w", repo, err)
	}
	img, err := image(fsys)
	if err != nil {
		return "", fmt.Errorf("make the image: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := tarball.Write(tag, img, f); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return tag.String(), f.Close()
}

func notFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// sandboxImage returns the image sandbox pods run: the configured one, or
// one made here and pushed to the registry, once per content.
func (d *Driver) sandboxImage(ctx context.Context) (string, error) {
	if d.cfg.Image != "" {
		return d.cfg.Image, nil
	}
	d.imageMu.Lock()
	defer d.imageMu.Unlock()
	if d.image != "" {
		return d.image, nil
	}
	start := time.Now()
	fsys, err := SandboxImage(d.cfg.AgentBinary)
	if err != nil {
		return "", err
	}
	ref, err := Push(ctx, fsys, d.cfg.Registry+"/ecode/sandbox")
	if err != nil {
		return "", err
	}
	d.log.Info("sandbox image ready", "image", ref, "took", time.Since(start).Round(time.Millisecond))
	d.image = ref
	return ref, nil
}

// AppImage makes the image of an app release, the sandbox image with the
// tree at dir (the release's) at runtime.ProjectDir, pushes it as tag
// (REGISTRY/PATH:TAG) and returns it by digest, which no later push of
// the same tag changes. It returns "" when the driver pushes no images:
// it pushes where its sandbox image comes from, and a configured one from
// elsewhere tells nothing of whether the registry takes pushes.
func (d *Driver) AppImage(ctx context.Context, tag, dir string) (string, error) {
	if d.cfg.Registry == "" || d.cfg.Image != "" && !strings.HasPrefix(d.cfg.Image, d.cfg.Registry+"/") {
		return "", nil
	}
	base, err := d.sandboxImage(ctx)
	if err != nil {
		return "", err
	}
	baseRef, err := name.ParseReference(base)
	if err != nil {
		return "", fmt.Errorf("image name %s: %w", base, err)
	}
	to, err := name.NewTag(tag)
	if err != nil {
		return "", fmt.Errorf("image name %s: %w", tag, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	img, err := remote.Image(baseRef, opts...)
	if err != nil {
		return "", fmt.Errorf("read the sandbox image %s: %w", base, err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(treeTar(pw, dir, runtime.ProjectDir)) }()
		return pr, nil
	}, tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return "", fmt.Errorf("make the release's layer: %w", err)
	}
	if img, err = mutate.AppendLayers(img, layer); err != nil {
		return "", fmt.Errorf("make the release's image: %w", err)
	}
	if err := remote.Write(to, img, opts...); err != nil {
		return "", fmt.Errorf("push %s: %w", to, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return "", err
	}
	return to.Context().Digest(digest.String()).String(), nil
}

// treeTar writes the tree at dir as a tar stream under at: folders,
// regular files and links as links, never followed (os.Root); anything
// else is left out. Everything is root's, as in the rest of the image.
func treeTar(w io.Writer, dir, at string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tw := tar.NewWriter(w)
	err = fs.WalkDir(root.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: path.Join(strings.TrimPrefix(at, "/"), p), Mode: int64(info.Mode().Perm()), ModTime: info.ModTime(), Format: tar.FormatPAX}
		switch t := e.Type(); {
		case t.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, hdr.Name+"/"
		case t&fs.ModeSymlink != 0:
			if hdr.Linkname, err = root.Readlink(p); err != nil {
				return err
			}
			hdr.Typeflag = tar.TypeSymlink
		case t.IsRegular():
			hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
		default:
			return nil
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := root.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.CopyN(tw, f, hdr.Size)
		return err
	})
	if err != nil {
		return fmt.Errorf("read the release %s: %w", dir, err)
	}
	return tw.Close()
}
