package kube

import (
	"context"
	"sync"
)

// A release runs from an image of its own where the runtime pushes
// images (the sandbox image with the release in it), so its pods need
// no share of the server's data dir; elsewhere from the sandbox image
// with the release mounted.

// appImage is an app release's image, made once per release folder.
type appImage struct {
	once sync.Once
	ref  string
	err  error
}

// imageFor is the image of the release at dir and the folder its pods
// mount: the release's own image (tag: where it goes; empty: nowhere)
// and none, or the sandbox image and dir.
func (d *Driver) imageFor(ctx context.Context, tag, dir string) (string, string, error) {
	if tag != "" {
		d.mu.Lock()
		img := d.images[dir]
		if img == nil {
			img = &appImage{}
			d.images[dir] = img
		}
		d.mu.Unlock()
		img.once.Do(func() { img.ref, img.err = d.rt.AppImage(ctx, tag, dir) })
		if img.err != nil {
			d.mu.Lock()
			delete(d.images, dir) // tried again next time
			d.mu.Unlock()
			return "", "", img.err
		}
		if img.ref != "" {
			return img.ref, "", nil
		}
	}
	sandbox, err := d.rt.Image(ctx)
	return sandbox, dir, err
}
