package kube_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"ecode/internal/deploy"
	"ecode/internal/gpu"
)

// A GPU instance asks the cluster for one of its kind, and the scheduler
// counts them: with one advertised on a node, as the device plugin would
// (here a patch of the node's status, as Kubernetes' "Advertise Extended
// Resources for a Node" does), the first instance runs there and a second
// finds no room. The MIG profile is the test's own: no other node offers
// it, and no other test asks for it.
func TestInstanceGPU(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	node := readyNode(t, e)
	unit := &gpu.Unit{UUID: "MIG-SIMULATED-0-0", Name: "MIG 1g.5gb", Profile: "1g.5gb", MemoryMiB: 4864}
	name := unit.KubeResource()
	advertise := func(op string) error {
		path := strings.ReplaceAll(name, "/", "~1") // JSON pointer escaping
		body := fmt.Sprintf(`[{"op":%q,"path":"/status/capacity/%s","value":"1"},{"op":%q,"path":"/status/allocatable/%s","value":"1"}]`, op, path, op, path)
		_, err := e.cs.CoreV1().Nodes().Patch(ctx, node, types.JSONPatchType, []byte(body), metav1.PatchOptions{}, "status")
		return err
	}
	if err := advertise("add"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := advertise("remove"); err != nil {
			t.Errorf("node %s keeps %s: %v", node, name, err)
		}
	})

	spec := deploy.InstanceSpec{ProjectID: "01PROJECTG", ReleaseID: "01RELEASEG", ID: "app-ectg-1", Port: 8080, Dir: release(t, nil),
		Command: `exec python3 -m http.server "$PORT"`, GPU: unit}
	start(t, e, spec, io.Discard)
	pods, err := e.cs.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{LabelSelector: "ecode.dev/instance=app-ectg-1"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods of the instance: %d (%v)", len(pods.Items), err)
	}
	pod := pods.Items[0]
	if q := pod.Spec.Containers[0].Resources.Limits[corev1.ResourceName(name)]; pod.Spec.NodeName != node || q.String() != "1" {
		t.Errorf("the pod is on %q with %s of %s, want on %q with 1", pod.Spec.NodeName, q.String(), name, node)
	}

	spec.ID = "app-ectg-2"
	if in, err := e.d.Start(ctx, spec, io.Discard); err == nil || !strings.Contains(err.Error(), "no node has room") {
		if err == nil {
			in.Stop()
		}
		t.Fatalf("a second instance while the only %s is taken: %v", name, err)
	}
}

// readyNode is a node that takes any pod: ready, and neither cordoned nor
// tainted (TestNodeLost's fake nodes are).
func readyNode(t *testing.T, e env) string {
	t.Helper()
	nodes, err := e.cs.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		if n.Spec.Unschedulable || len(n.Spec.Taints) > 0 {
			continue
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return n.Name
			}
		}
	}
	t.Fatal("no node is ready for pods")
	return ""
}
