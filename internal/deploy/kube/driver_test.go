package kube_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"

	"ecode/internal/deploy"
	"ecode/internal/deploy/kube"
	"ecode/internal/runtime"
	rkube "ecode/internal/runtime/kube"
	"ecode/internal/testserver"
)

// The tests run against a real cluster, as the kube runtime's do: its
// kubeconfig is ECODE_TEST_KUBECONFIG, or up.sh's. Without one they skip,
// unless ECODE_TEST_KUBE=required makes that a failure. The sandbox image
// is testserver's, pushed once to its registry on the host's loopback.

// env is one test's cluster: a namespace of its own and the driver there.
type env struct {
	cs kubernetes.Interface
	ns string
	d  *kube.Driver
}

// setup makes a namespace for t and the drivers there, and removes them
// after. Sandbox image image, or the tests' when empty.
func setup(t testing.TB, img string) env {
	t.Helper()
	kubeconfig := testserver.Kubeconfig()
	if kubeconfig == "" {
		const noCluster = "no Kubernetes cluster: start one with .ci/kube/up.sh or set ECODE_TEST_KUBECONFIG"
		if os.Getenv("ECODE_TEST_KUBE") == "required" {
			t.Fatal(noCluster)
		}
		t.Skip(noCluster)
	}
	if t, ok := t.(*testing.T); ok {
		t.Parallel()
	}
	cs, _, err := rkube.Client(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	ns := namespace(t, cs)
	if img == "" {
		img = testserver.SandboxImage(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	rt, err := rkube.New(ctx, rkube.Config{Kubeconfig: kubeconfig, Namespace: ns, ServerID: "deploy-test", Image: img, Registry: testserver.Registry(t),
		Limits: runtime.Limits{MemoryBytes: 256 << 20, CPUs: 0.5}, Pending: 5 * time.Second, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	d, err := kube.New(ctx, kube.Config{Runtime: rt, Local: deploy.NewLocal(rt, nil, nil), Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return env{cs: cs, ns: ns, d: d}
}

// namespace makes a namespace for one test and removes it after.
func namespace(t testing.TB, cs kubernetes.Interface) string {
	t.Helper()
	name := "ecode-test-deploy-" + rkube.DNSLabel(t.Name())
	name = strings.Trim(name[:min(len(name), 50)], "-")
	ctx := context.Background()
	_ = cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	eventually(t, 2*time.Minute, func() bool { // an earlier one may still be going
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		return err == nil
	})
	// Pods are refused until the namespace's default ServiceAccount exists.
	eventually(t, time.Minute, func() bool {
		_, err := cs.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
	t.Cleanup(func() {
		grace := int64(0)
		_ = cs.CoreV1().Pods(name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &grace}, metav1.ListOptions{})
		_ = cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	})
	return name
}

// eventually waits until cond holds, or fails t after within.
func eventually(t testing.TB, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for wait := 10 * time.Millisecond; !cond(); wait = min(2*wait, time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("not so after %s", within)
		}
		time.Sleep(wait)
	}
}

// output is what a command wrote, read while it writes.
type output struct {
	mu sync.Mutex
	b  strings.Builder
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// release is an app's folder, as the platform makes it: readable by all.
func release(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func start(t *testing.T, e env, spec deploy.InstanceSpec, out io.Writer) deploy.Instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	in, err := e.d.Start(ctx, spec, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Stop() })
	return in
}

// An instance is a Deployment and a Service, owned by the server's
// ConfigMap; it serves from its release, which it cannot write, and Stop
// removes both.
func TestInstance(t *testing.T) {
	e := setup(t, "")
	ctx := context.Background()
	var out output
	cmd := `touch probe 2>/dev/null && echo release writable || echo release read-only; echo "port $PORT user $(id -un) $GREETING files $(ulimit -n)"; exec python3 -m http.server "$PORT"`
	repo := testserver.Registry(t) + "/ecode/alice-blog"
	in := start(t, e, deploy.InstanceSpec{ProjectID: "01PROJECTA", ReleaseID: "01RELEASE1", ID: "app-ecta-1f2e3d", Port: 8080,
		Dir: release(t, map[string]string{"index.html": "hello from the release\n"}), Image: repo + ":1", Command: cmd, Env: []string{"GREETING=hi"}}, &out)

	name := "app-" + rkube.DNSLabel("app-ecta-1f2e3d")
	dep, err := e.cs.AppsV1().Deployments(e.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := e.cs.CoreV1().Services(e.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []metav1.Object{dep, svc} {
		l := o.GetLabels()
		if l["ecode.dev/role"] != "app" || l["ecode.dev/project"] != "01PROJECTA" || l["ecode.dev/release"] != "01RELEASE1" ||
			l["ecode.dev/instance"] != "app-ecta-1f2e3d" || l["app.kubernetes.io/managed-by"] != "ecode" || l["ecode.dev/server"] != "deploy-test" {
			t.Errorf("labels of %s: %v", o.GetName(), l)
		}
		if owners := o.GetOwnerReferences(); len(owners) != 1 || owners[0].Kind != "ConfigMap" || owners[0].Name != rkube.AnchorName("deploy-test") {
			t.Errorf("owners of %s: %+v", o.GetName(), owners)
		}
	}
	pod := dep.Spec.Template.Spec
	c := pod.Containers[0]
	// The release is in an image of its own, pinned by digest; its
	// environment in a Secret that goes with the Deployment.
	if !strings.HasPrefix(c.Image, repo+"@sha256:") || slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.HostPath != nil }) {
		t.Errorf("the release is not the image's: %s %+v", c.Image, pod.Volumes)
	}
	secret, err := e.cs.CoreV1().Secrets(e.ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil || string(secret.Data["GREETING"]) != "hi" || string(secret.Data["PORT"]) != "8080" || len(secret.OwnerReferences) != 1 || secret.OwnerReferences[0].UID != dep.UID {
		t.Errorf("Secret: %v %+v", err, secret)
	}
	if len(c.Env) > 0 || len(c.EnvFrom) != 1 || c.EnvFrom[0].SecretRef.Name != name {
		t.Errorf("the environment is not the Secret's: %+v %+v", c.Env, c.EnvFrom)
	}
	if *pod.SecurityContext.RunAsNonRoot != true || *pod.AutomountServiceAccountToken || *pod.EnableServiceLinks ||
		!*c.SecurityContext.ReadOnlyRootFilesystem || *c.SecurityContext.AllowPrivilegeEscalation || c.ReadinessProbe == nil {
		t.Errorf("the pod is not held as a sandbox: %+v", pod)
	}
	if svc.Spec.Ports[0].Port != 80 || svc.Spec.Ports[0].TargetPort.IntValue() != 8080 {
		t.Errorf("service ports: %+v", svc.Spec.Ports)
	}
	// The network policy of apps selects its pod.
	pol, err := e.cs.NetworkingV1().NetworkPolicies(e.ns).Get(ctx, "ecode-apps-deploy-test", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&pol.Spec.PodSelector)
	if err != nil || !sel.Matches(labels.Set(dep.Spec.Template.Labels)) {
		t.Errorf("the apps' policy (%v) does not select the pod (%v)", sel, dep.Spec.Template.Labels)
	}

	// Through Dial, as the edge reaches it.
	var body string
	eventually(t, time.Minute, func() bool {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		conn, err := in.Dial(dctx)
		if err != nil {
			return false
		}
		defer conn.Close()
		io.WriteString(conn, "GET /index.html HTTP/1.0\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(res.Body)
		body = string(b)
		return res.StatusCode == 200
	})
	if body != "hello from the release\n" {
		t.Errorf("GET: %q", body)
	}
	eventually(t, 30*time.Second, func() bool { return strings.Contains(out.String(), "GET /index.html") })
	if s := out.String(); !strings.Contains(s, "release read-only\nport 8080 user runner hi files 4096\n") {
		t.Errorf("output: %q", s)
	}
	select {
	case <-in.Done():
		t.Fatal("the instance ended")
	default:
	}

	if err := in.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-in.Done():
	default:
		t.Error("Done is open after Stop")
	}
	if _, err := e.cs.AppsV1().Deployments(e.ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Deployment is there after Stop: %v", err)
	}
	if _, err := e.cs.CoreV1().Services(e.ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the Service is there after Stop: %v", err)
	}
	eventually(t, time.Minute, func() bool {
		_, err := e.cs.CoreV1().Secrets(e.ns).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if err := in.Stop(); err != nil {
		t.Errorf("Stop again: %v", err)
	}
}

// An instance whose command ends is over, however Kubernetes would
// restart it: Done closes, Exit says how, and its objects go.
func TestInstanceEnds(t *testing.T) {
	e := setup(t, "")
	for _, tc := range []struct {
		name, cmd, out string
		limits         runtime.Limits
		exit           runtime.Exit
		err            string
	}{
		{"exits", "echo going; exit 3", "going\n", runtime.Limits{}, runtime.Exit{Code: 3}, ""},
		{"out of memory", "echo growing; python3 -c 'b = bytearray(512 << 20); print(len(b))'", "growing\n",
			runtime.Limits{MemoryBytes: 64 << 20}, runtime.Exit{Code: -1, Signal: "killed"}, "it ran out of memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out output
			id := "app-ectb-" + rkube.DNSLabel(tc.name)
			in := start(t, e, deploy.InstanceSpec{ProjectID: "01PROJECTB", ReleaseID: "01RELEASE2", ID: id, Port: 8080,
				Dir: release(t, nil), Command: tc.cmd, Limits: tc.limits}, &out)
			select {
			case <-in.Done():
			case <-time.After(time.Minute):
				t.Fatal("Done stays open")
			}
			exit, err := in.Exit()
			if exit != tc.exit || (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
				t.Errorf("exit = %+v, %v; want %+v, %q", exit, err, tc.exit, tc.err)
			}
			if !strings.HasPrefix(out.String(), tc.out) { // and the shell's word on its child's end
				t.Errorf("output: %q", out.String())
			}
			eventually(t, time.Minute, func() bool {
				_, err := e.cs.AppsV1().Deployments(e.ns).Get(context.Background(), "app-"+rkube.DNSLabel(id), metav1.GetOptions{})
				return apierrors.IsNotFound(err)
			})
		})
	}
}

// A scheduled run is a Job over its own copy, which it may write; its
// output and exit come back.
func TestExec(t *testing.T) {
	e := setup(t, "")
	for _, tc := range []struct {
		name, cmd, out string
		code           int
	}{
		{"ok", `echo "hello $GREETING" && echo made > new.txt`, "hello hi\n", 0},
		{"fails", "echo out; echo err >&2; exit 7", "out\nerr\n", 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := release(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var out output
			exit, err := e.d.Exec(ctx, deploy.ExecSpec{ProjectID: "01PROJECT" + strings.ToUpper(tc.name), Dir: dir, Command: tc.cmd, Env: []string{"GREETING=hi"}}, &out)
			if err != nil || exit.Code != tc.code || exit.Signal != "" {
				t.Fatalf("exec = %+v, %v", exit, err)
			}
			// stdout and stderr are separate streams to the node: their
			// lines may come in either order.
			if got, want := lines(out.String()), lines(tc.out); !slices.Equal(got, want) {
				t.Errorf("output: %q, want %q", got, want)
			}
			if tc.code == 0 {
				if b, err := os.ReadFile(filepath.Join(dir, "new.txt")); err != nil || string(b) != "made\n" {
					t.Errorf("the file the run wrote: %q (%v)", b, err)
				}
			}
		})
	}
}

func lines(s string) []string {
	l := strings.Split(s, "\n")
	slices.Sort(l)
	return l
}

// Ending a run's context deletes its Job.
func TestExecStopped(t *testing.T) {
	e := setup(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out output
	go func() {
		for !strings.Contains(out.String(), "started") && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
	}()
	began := time.Now()
	exit, err := e.d.Exec(ctx, deploy.ExecSpec{ProjectID: "01PROJECTS", Dir: release(t, nil), Command: "echo started; sleep 300"}, &out)
	if err != nil || exit.Signal == "" || time.Since(began) > 2*time.Minute {
		t.Fatalf("exec = %+v, %v after %s", exit, err, time.Since(began))
	}
	eventually(t, time.Minute, func() bool {
		jobs, err := e.cs.BatchV1().Jobs(e.ns).List(context.Background(), metav1.ListOptions{LabelSelector: "ecode.dev/role=exec"})
		return err == nil && (len(jobs.Items) == 0 || jobs.Items[0].DeletionTimestamp != nil)
	})
}

// An image the node cannot pull, or no node with room, fails the start
// with the reason, and leaves nothing behind.
func TestMissingImage(t *testing.T) {
	e := setup(t, testserver.Registry(t)+"/ecode/none:missing")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := e.d.Start(ctx, deploy.InstanceSpec{ProjectID: "01PROJECTM", ReleaseID: "01RELEASE3", ID: "app-ectm-000001", Port: 8080,
		Dir: release(t, nil), Command: "true"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "the instance cannot start") {
		t.Fatalf("start: %v", err)
	}
	deps, err := e.cs.AppsV1().Deployments(e.ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(deps.Items) != 0 {
		t.Errorf("Deployments left: %d (%v)", len(deps.Items), err)
	}
	_, err = e.d.Exec(ctx, deploy.ExecSpec{ProjectID: "01PROJECTM", Dir: release(t, nil), Command: "true"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "the run cannot start") {
		t.Fatalf("exec: %v", err)
	}
	// No node has room: the start fails after the runtime's Pending.
	_, err = e.d.Start(ctx, deploy.InstanceSpec{ProjectID: "01PROJECTM", ReleaseID: "01RELEASE3", ID: "app-ectm-000002", Port: 8080,
		Dir: release(t, nil), Command: "true", Limits: runtime.Limits{MemoryBytes: 1 << 42}}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no node has room for the instance") {
		t.Fatalf("start without room: %v", err)
	}
}
