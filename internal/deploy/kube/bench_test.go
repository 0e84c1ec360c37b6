package kube_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"ecode/internal/deploy"
	"ecode/internal/testserver"
)

// BenchmarkInstanceStart is an app instance from nothing (its Secret, the
// Deployment and Service, the scheduler, the kubelet, the container) to
// its first answer over HTTP: its release mounted from the data dir, or
// in an image of its own (pushed once, then on the node) that an init
// container copies into the pod.
func BenchmarkInstanceStart(b *testing.B) {
	e := setup(b, "")
	dir := release(b, map[string]string{"index.html": "hello\n"})
	for _, tc := range []struct{ name, image string }{
		{"mounted", ""},
		{"image", testserver.Registry(b) + "/ecode/bench-app:1"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			spec := deploy.InstanceSpec{ProjectID: "01PROJECTB", ReleaseID: "01RELEASEB", Port: 8080, Dir: dir, Image: tc.image,
				Command: `exec python3 -m http.server "$PORT"`}
			answer(b, e, spec, "warm") // the image on the node
			n := 0
			for b.Loop() {
				n++
				answer(b, e, spec, "bench-"+string(rune('a'+n%26)))
			}
		})
	}
}

// answer starts an instance of spec, waits for its first answer and stops
// it, the stop out of the timing.
func answer(b *testing.B, e env, spec deploy.InstanceSpec, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spec.ID = id
	in, err := e.d.Start(ctx, spec, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	for {
		if conn, err := in.Dial(ctx); err == nil {
			io.WriteString(conn, "GET /index.html HTTP/1.0\r\n\r\n")
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			conn.Close()
			if err == nil && res.StatusCode == http.StatusOK {
				break
			}
		}
		if ctx.Err() != nil {
			b.Fatal("no answer")
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	in.Stop()
	b.StartTimer()
}
