package kube

import (
	"context"
	"testing"

	"ecode/internal/runtime"
)

func runTrue(b *testing.B, s runtime.Sandbox) {
	if out, e := run(b, s, "/usr/bin/true"); e.Code != 0 {
		b.Fatalf("true: %+v %s", e, out)
	}
}

// BenchmarkPodColdStart is a sandbox pod from nothing (API create, the
// scheduler, the kubelet, containerd and runc, the network, the agent) to
// a user process that has run through the agent; the image is on the node.
func BenchmarkPodColdStart(b *testing.B) {
	d := newDriver(b, Config{Namespace: namespace(b, cluster(b))})
	dir := projectDir(b)
	warm := start(b, d, runtime.Spec{ID: "warm", ProjectDir: dir}) // pulls the image once
	warm.Stop()
	for b.Loop() {
		s, err := d.Start(context.Background(), runtime.Spec{ID: "bench", ProjectDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		runTrue(b, s)
		b.StopTimer()
		s.Stop()
		b.StartTimer()
	}
}

// BenchmarkPodExecTrue is one command in a running sandbox pod, through its
// agent over the pod network.
func BenchmarkPodExecTrue(b *testing.B) {
	d := newDriver(b, Config{Namespace: namespace(b, cluster(b))})
	s := start(b, d, runtime.Spec{ID: "bench", ProjectDir: projectDir(b)})
	for b.Loop() {
		runTrue(b, s)
	}
}
