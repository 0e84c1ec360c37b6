package kube

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"log"

	"github.com/google/go-containerregistry/pkg/registry"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/retry"

	"ecode/internal/runtime"
	"ecode/internal/runtime/bwrap"
)

// The tests run against a real cluster (../shared/kube/up.sh on our
// machines): its kubeconfig is ECODE_TEST_KUBECONFIG, or up.sh's. Without
// one they skip, unless ECODE_TEST_KUBE=required (CI) makes that a failure.
var (
	kubeconfig string
	noCluster  string
	agentBin   string // the agent the sandbox image carries
	registryAt string // a registry on this host the node pulls from
)

func TestMain(m *testing.M) {
	// The server test's sandboxes carry this binary as their agent.
	if handled, err := bwrap.Main(os.Args[1:]); handled {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := func() int {
		kubeconfig = os.Getenv("ECODE_TEST_KUBECONFIG")
		if kubeconfig == "" {
			kubeconfig = "/tmp/kube-try/pki/admin.kubeconfig"
		}
		if _, err := os.Stat(kubeconfig); err != nil {
			noCluster = "no Kubernetes cluster: start one with ../shared/kube/up.sh or set ECODE_TEST_KUBECONFIG"
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "ecode-kube-test-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		agentBin = filepath.Join(dir, "ecode-agent")
		build := exec.Command("go", "build", "-o", agentBin, "ecode/cmd/ecode-agent")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build the agent: %v\n%s", err, out)
			return 1
		}
		// A registry speaking the real protocol, on the host's loopback,
		// where the node's containerd pulls over plain HTTP.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
		go srv.Serve(ln)
		defer srv.Close()
		registryAt = ln.Addr().String()
		return m.Run()
	}()
	os.Exit(code)
}

func cluster(t testing.TB) kubernetes.Interface {
	t.Helper()
	if noCluster != "" {
		if os.Getenv("ECODE_TEST_KUBE") == "required" {
			t.Fatal(noCluster)
		}
		t.Skip(noCluster)
	}
	cs, _, err := Client(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// namespace makes a namespace for one test and removes it after.
func namespace(t testing.TB, cs kubernetes.Interface) string {
	t.Helper()
	name := "ecode-test-" + strings.ToLower(dnsLabel(t.Name()))
	name = name[:min(len(name), 50)]
	ctx := context.Background()
	_ = cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	for {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsAlreadyExists(err) { // still being deleted
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Pods are refused until the namespace's default ServiceAccount exists.
	for {
		if _, err := cs.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() {
		grace := int64(0)
		_ = cs.CoreV1().Pods(name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &grace}, metav1.ListOptions{})
		_ = cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	})
	return name
}

func newDriver(t testing.TB, cfg Config) *Driver {
	t.Helper()
	if cfg.Kubeconfig == "" {
		cfg.Kubeconfig = kubeconfig
	}
	if cfg.ServerID == "" {
		cfg.ServerID = "test-server"
	}
	if cfg.Image == "" {
		cfg.Registry, cfg.AgentBinary = registryAt, agentBin
	}
	cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// projectDir is a project's folder on the node.
func projectDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.py"), []byte("print('hello from the project')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run(t testing.TB, s runtime.Sandbox, argv ...string) (string, runtime.Exit) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := s.Exec(ctx, runtime.Command{Argv: argv})
	if err != nil {
		t.Fatal(err)
	}
	p.CloseStdin()
	var out bytes.Buffer
	exit, err := p.Wait(ctx, &out, &out)
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), exit
}

func start(t testing.TB, d *Driver, spec runtime.Spec) runtime.Sandbox {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := d.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func TestSandboxPod(t *testing.T) {
	cs := cluster(t)
	ns := namespace(t, cs)
	d := newDriver(t, Config{Namespace: ns, Limits: runtime.Limits{MemoryBytes: 256 << 20, CPUs: 0.5}})
	dir := projectDir(t)
	s := start(t, d, runtime.Spec{ID: "01PROJECTA", ProjectDir: dir, Env: []string{"GREETING=hi"}})

	// Commands run as the sandbox's own uid, named runner, in the project.
	out, exit := run(t, s, "bash", "-c", `echo "$(id -un) $(id -u) $(pwd) $GREETING"; python3 main.py; echo made > new.txt`)
	want := fmt.Sprintf("runner %d %s hi\nhello from the project\n", runtime.SandboxUID("01PROJECTA"), runtime.ProjectDir)
	if exit.Code != 0 || out != want {
		t.Fatalf("exec = %q %+v, want %q", out, exit, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "new.txt")); err != nil || string(b) != "made\n" {
		t.Errorf("the file written inside is %q on the node (%v)", b, err)
	}
	// The toolchain of the host is there.
	if out, exit := run(t, s, "bash", "-c", "go version && node --version && git --version"); exit.Code != 0 || !strings.HasPrefix(out, "go version go1.") {
		t.Errorf("toolchain: %q %+v", out, exit)
	}
	// Nothing of the root is writable, no privilege is gained, the home is
	// in memory and the server's credentials are not there.
	out, _ = run(t, s, "bash", "-c", `touch /usr/x 2>&1 | grep -c 'Read-only'; grep -c NoNewPrivs:.1 /proc/self/status; grep CapEff /proc/self/status; ls /var/run/secrets 2>&1 | grep -c 'No such'; touch ~/x && echo home ok`)
	if out != "1\n1\nCapEff:\t0000000000000000\n1\nhome ok\n" {
		t.Errorf("confinement: %q", out)
	}
	// A terminal.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := s.Exec(ctx, runtime.Command{Argv: []string{"bash", "--norc", "-i"}, TTY: true, Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	var term bytes.Buffer // written by Wait, read once it returned
	waited := make(chan runtime.Exit, 1)
	go func() {
		e, _ := p.Wait(ctx, &term, &term)
		waited <- e
	}()
	io.WriteString(p, "stty size; tty; exit 7\n")
	if e := <-waited; e.Code != 7 || !strings.Contains(term.String(), "30 100") || !strings.Contains(term.String(), "/dev/pts/") {
		t.Errorf("terminal: exit %+v, output %q", e, term.String())
	}
	// A server inside: its port is found and reached.
	bg, err := s.Exec(context.Background(), runtime.Command{Argv: []string{"python3", "-m", "http.server", "--bind", "127.0.0.1", "8000"}})
	if err != nil {
		t.Fatal(err)
	}
	go bg.Wait(context.Background(), io.Discard, io.Discard)
	defer bg.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ports, err := s.Ports(ctx)
		if err == nil && len(ports) == 1 && ports[0] == 8000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ports = %v, %v", ports, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn, err := s.Dial(ctx, 8000)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /main.py HTTP/1.0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	conn.Close()
	if resp.StatusCode != 200 || string(body) != "print('hello from the project')\n" {
		t.Errorf("preview: %d %q", resp.StatusCode, body)
	}
	// The limits are the kernel's, read back.
	res, ok := s.Resources()
	if !ok || res.MemoryBytes != 256<<20 || res.CPUs != 0.5 || res.MemoryUsed == 0 {
		t.Errorf("resources = %+v, %v", res, ok)
	}

	name := s.(*sandbox).name
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done is open after Stop")
	}
	if _, err := cs.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the pod is still there after Stop: %v", err)
	}
}

type egressFunc func(ln net.Listener, id string)

func (f egressFunc) Serve(ln net.Listener, id string) { f(ln, id) }

// A pod reaches its relays (a data service, the egress proxy) only through
// its agent: the server takes each connection.
func TestRelays(t *testing.T) {
	cs := cluster(t)
	ns := namespace(t, cs)
	serve := func(prefix string) func(ln net.Listener) {
		return func(ln net.Listener) {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					line, _ := bufio.NewReader(c).ReadString('\n')
					io.WriteString(c, prefix+line)
				}()
			}
		}
	}
	var egressFor string
	d := newDriver(t, Config{Namespace: ns, Egress: egressFunc(func(ln net.Listener, id string) {
		egressFor = id
		serve("proxy: ")(ln)
	})})
	s := start(t, d, runtime.Spec{ID: "01PROJECTB", ProjectDir: projectDir(t), Egress: true, Relays: []runtime.Relay{
		{Port: 5432, Serve: serve("db: "), Env: []string{"DATABASE_URL=postgres://127.0.0.1:5432/app"}},
	}})
	script := `echo "$DATABASE_URL $HTTP_PROXY"
for port in 5432 3128; do exec 3<>/dev/tcp/127.0.0.1/$port; echo "hello $port" >&3; head -1 <&3; exec 3<&-; done`
	out, exit := run(t, s, "bash", "-c", script)
	want := "postgres://127.0.0.1:5432/app http://127.0.0.1:3128\ndb: hello 5432\nproxy: hello 3128\n"
	if exit.Code != 0 || out != want {
		t.Fatalf("relays: %q %+v, want %q", out, exit, want)
	}
	if egressFor != "01PROJECTB" {
		t.Errorf("egress served for %q", egressFor)
	}
}

// A missing image and a pod no node has room for fail the start with a
// reason, and leave no pod behind.
func TestStartFailures(t *testing.T) {
	cs := cluster(t)
	ns := namespace(t, cs)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing image", Config{Image: registryAt + "/ecode/none:missing"}, "cannot start"},
		{"no room", Config{Limits: runtime.Limits{MemoryBytes: 1 << 42}, Pending: 2 * time.Second}, "no node has room"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Namespace = ns
			tc.cfg.ServerID = dnsLabel(tc.name)
			d := newDriver(t, tc.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, err := d.Start(ctx, runtime.Spec{ID: "01PROJECTC", ProjectDir: projectDir(t)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("start: %v, want %q", err, tc.want)
			}
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: d.selector()})
			if err != nil || len(pods.Items) != 0 {
				t.Errorf("pods left: %d (%v)", len(pods.Items), err)
			}
		})
	}
}

// A server that starts again removes the pods its earlier run left.
func TestLeftovers(t *testing.T) {
	cs := cluster(t)
	ns := namespace(t, cs)
	first := newDriver(t, Config{Namespace: ns, ServerID: "restarting"})
	s := start(t, first, runtime.Spec{ID: "01PROJECTD", ProjectDir: projectDir(t)})
	name := s.(*sandbox).name
	first.cancel() // the server dies: nothing stops its pods
	newDriver(t, Config{Namespace: ns, ServerID: "restarting"})
	pod, err := cs.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) && (err != nil || pod.DeletionTimestamp == nil) {
		t.Fatalf("the earlier run's pod is still there: %v", err)
	}
	owners := pod.OwnerReferences
	if err == nil && (len(owners) != 1 || owners[0].Kind != "ConfigMap") {
		t.Errorf("owners = %+v", owners)
	}
}

// Without the permissions it needs, the driver says which and how to fix
// it, before it makes anything.
func TestForbidden(t *testing.T) {
	cs := cluster(t)
	ns := namespace(t, cs)
	ctx := context.Background()
	sa, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "no-rights"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa.Name, &authnv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := writeTokenKubeconfig(kubeconfig, tok.Status.Token, path); err != nil {
		t.Fatal(err)
	}
	_, err = New(ctx, Config{Kubeconfig: path, Namespace: ns, ServerID: "x", Image: "x"})
	if err == nil || !strings.Contains(err.Error(), "may not create pods") || !strings.Contains(err.Error(), "RBAC") {
		t.Fatalf("New without rights: %v", err)
	}
}

// writeTokenKubeconfig writes a kubeconfig for the cluster of from, as the
// holder of token.
func writeTokenKubeconfig(from, token, path string) error {
	cfg, err := clientcmd.LoadFromFile(from)
	if err != nil {
		return err
	}
	for _, a := range cfg.AuthInfos {
		*a = clientcmdapi.AuthInfo{Token: token}
	}
	return clientcmd.WriteToFile(*cfg, path)
}

// A node that stops answering under a sandbox: its pod is evicted after
// Config.NodeLost, and as no kubelet confirms its end, the driver ends the
// sandbox at once, saying so, and deletes the pod outright. The node here
// has no kubelet: it says it is ready once and never again, in a pool of
// its own that only this test's pods go to.
func TestNodeLost(t *testing.T) {
	cs := cluster(t)
	t.Parallel()
	ns := namespace(t, cs)
	ctx := context.Background()
	pool := "lost-" + strings.ToLower(rand.Text()[:8])
	node, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "ecode-test-" + pool, Labels: map[string]string{"ecode.dev/pool": pool}},
		Spec:       corev1.NodeSpec{Taints: []corev1.Taint{{Key: "ecode.dev/pool", Value: pool, Effect: corev1.TaintEffectNoSchedule}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{}) })
	room := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("10")}
	// The node controller may change the node meanwhile (its taints).
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := cs.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		cur.Status = corev1.NodeStatus{Capacity: room, Allocatable: room, Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now},
		}}
		_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	d := newDriver(t, Config{Namespace: ns, ServerID: "lost", NodePool: "ecode.dev/pool=" + pool, NodeLost: time.Second, Pending: 3 * time.Minute})
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	_, err = d.Start(sctx, runtime.Spec{ID: "01PROJECTL", ProjectDir: projectDir(t)})
	if err == nil || !strings.Contains(err.Error(), "node "+node.Name+" stopped answering") {
		t.Fatalf("start on a lost node: %v", err)
	}
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: d.selector()})
	if err != nil || len(pods.Items) != 0 {
		t.Fatalf("pods left: %d (%v)", len(pods.Items), err)
	}
}
