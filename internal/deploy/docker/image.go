package docker

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"ecode/internal/deploy"
	"ecode/internal/runtime"
	"ecode/internal/runtime/rootfs"
	"ecode/internal/safefs"
)

// baseImage returns the base image, made once from the host's toolchain
// and tagged by a hash of what went in, so that a server whose host
// changed makes a new one and one whose host did not finds its old one.
func (d *Driver) baseImage(ctx context.Context) (string, error) {
	d.images.Lock()
	defer d.images.Unlock()
	if d.base != "" {
		return d.base, nil
	}
	fsys, err := rootfs.Host()
	if err != nil {
		return "", fmt.Errorf("collect the base image: %w", err)
	}
	ref := "ecode/base:" + fsys.Hash()[:20]
	if _, err := d.c.ImageInspect(ctx, ref); err == nil {
		d.base = ref
		return ref, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", unavailable(err)
	}
	start := time.Now()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(fsys.Write(pw)) }()
	res, err := d.c.ImageImport(ctx, client.ImageImportSource{Source: pr, SourceName: "-"}, ref, client.ImageImportOptions{})
	if err != nil {
		pr.CloseWithError(err)
		return "", unavailable(fmt.Errorf("import the base image: %w", err))
	}
	msg, err := readProgress(res)
	if err != nil {
		return "", unavailable(fmt.Errorf("import the base image: %w", err))
	}
	if _, err := d.c.ImageInspect(ctx, ref); err != nil {
		return "", unavailable(fmt.Errorf("import the base image: %s", msg))
	}
	d.log.Info("made the deploy base image", "image", ref, "files", len(fsys), "took", time.Since(start).Round(time.Millisecond))
	d.base = ref
	return ref, nil
}

// releaseImage returns the image of an app release, making it the first
// time: the base with the release's folder as the project folder, run as
// runner with the release's command. Secrets and PORT are not in it; the
// container is given them.
func (d *Driver) releaseImage(ctx context.Context, i deploy.InstanceSpec) (string, error) {
	base, err := d.baseImage(ctx)
	if err != nil {
		return "", err
	}
	ref := "ecode/" + i.ProjectID + ":" + i.ReleaseID
	d.images.Lock()
	defer d.images.Unlock()
	if _, err := d.c.ImageInspect(ctx, ref); err == nil {
		return ref, nil
	} else if !cerrdefs.IsNotFound(err) {
		return "", unavailable(err)
	}
	cmd, err := json.Marshal([]string{"sh", "-c", i.Command})
	if err != nil {
		return "", err
	}
	dockerfile := fmt.Sprintf("FROM %s\nCOPY app %s\nWORKDIR %s\nUSER 1000:1000\nCMD %s\n", base, runtime.ProjectDir, runtime.ProjectDir, cmd)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(buildContext(pw, dockerfile, i.Dir)) }()
	res, err := d.c.ImageBuild(ctx, pr, client.ImageBuildOptions{
		Tags:        []string{ref},
		Remove:      true,
		ForceRemove: true,
		NetworkMode: "none",
		Labels:      map[string]string{labelProject: i.ProjectID, labelRelease: i.ReleaseID},
	})
	if err != nil {
		pr.CloseWithError(err)
		return "", unavailable(fmt.Errorf("build the release image: %w", err))
	}
	msg, err := readProgress(res.Body)
	if err != nil {
		return "", unavailable(fmt.Errorf("build the release image: %w", err))
	}
	if _, err := d.c.ImageInspect(ctx, ref); err != nil {
		return "", unavailable(fmt.Errorf("build the release image: %s", msg))
	}
	return ref, nil
}

// RemoveRelease removes the image of a release that is no longer kept;
// one never made is no error.
func (d *Driver) RemoveRelease(ctx context.Context, projectID, releaseID string) error {
	_, err := d.c.ImageRemove(ctx, "ecode/"+projectID+":"+releaseID, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove the image of release %s: %w", releaseID, err)
	}
	return nil
}

// readProgress reads an engine's progress stream to its end and returns
// its last message; an error message in it is the error.
func readProgress(body io.ReadCloser) (string, error) {
	defer body.Close()
	dec := json.NewDecoder(body)
	var last string
	for {
		var m struct {
			Stream, Status, Error string
			ErrorDetail           struct{ Message string } `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return last, nil
		} else if err != nil {
			return last, err
		}
		switch {
		case m.Error != "":
			return m.Error, fmt.Errorf("%s", strings.TrimSpace(m.Error))
		case m.ErrorDetail.Message != "":
			return m.ErrorDetail.Message, fmt.Errorf("%s", strings.TrimSpace(m.ErrorDetail.Message))
		case m.Stream != "":
			last = m.Stream
		case m.Status != "":
			last = m.Status
		}
	}
}

// buildContext writes the tar of a release image's build: the Dockerfile
// and the release's folder as app/. The folder is read through safefs and
// its links are kept as links, never followed.
func buildContext(w io.Writer, dockerfile, dir string) error {
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))}); err != nil {
		return err
	}
	if _, err := io.WriteString(tw, dockerfile); err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "app/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		return err
	}
	root, err := safefs.OpenDir(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	err = root.Walk(func(e safefs.Entry) error {
		name := "app/" + e.Path
		switch {
		case e.IsDir():
			return tw.WriteHeader(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		case e.Type&fs.ModeSymlink != 0:
			target, err := e.Readlink()
			if err != nil {
				return err
			}
			return tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777})
		case !e.Type.IsRegular():
			return nil
		}
		f, info, err := e.Open()
		if err != nil {
			return err
		}
		defer f.Close()
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: int64(info.Mode().Perm()), Size: info.Size()}); err != nil {
			return err
		}
		_, err = io.CopyN(tw, f, info.Size())
		return err
	})
	if err != nil {
		return fmt.Errorf("read the release %s: %w", dir, err)
	}
	return tw.Close()
}
