package docker

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"

	"ecode/internal/deploy"
	"ecode/internal/runtime"
)

// engineHost is the socket of the Podman service the tests run against;
// empty when there is none, and why in noEngine.
var engineHost, noEngine string

// TestMain starts one Podman service with storage of its own for the whole
// package (the base image is made once), and removes all of it after.
func TestMain(m *testing.M) {
	stop, err := startPodman()
	if err != nil {
		noEngine = err.Error()
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

func startPodman() (func(), error) {
	if _, err := exec.LookPath("podman"); err != nil {
		return nil, fmt.Errorf("podman is not installed: the docker driver is tested against its Docker-compatible service")
	}
	dir, err := os.MkdirTemp("", "ecode-podman-")
	if err != nil {
		return nil, err
	}
	var nofile, nproc unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile)
	unix.Getrlimit(unix.RLIMIT_NPROC, &nproc)
	// Podman's default rlimits are above what a process without
	// CAP_SYS_RESOURCE may set, and crun refuses hybrid cgroups: where
	// runc is installed it is the runtime.
	engine := fmt.Sprintf("cgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\ntmp_dir = %q\n", filepath.Join(dir, "tmp"))
	if _, err := exec.LookPath("runc"); err == nil {
		engine += "runtime = \"runc\"\n"
	}
	conf := fmt.Sprintf("[containers]\ndefault_ulimits = [\"nofile=%d:%d\", \"nproc=%d:%d\"]\n[network]\nnetwork_config_dir = %q\n[engine]\n%s",
		min(nofile.Max, 65536), min(nofile.Max, 65536), min(nproc.Max, 8192), min(nproc.Max, 8192), filepath.Join(dir, "networks"), engine)
	storage := fmt.Sprintf("[storage]\ndriver = \"overlay\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(dir, "root"), filepath.Join(dir, "run"))
	for name, content := range map[string]string{"containers.conf": conf, "storage.conf": storage} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	sock := filepath.Join(dir, "podman.sock")
	cmd := exec.Command("podman", "system", "service", "--time=0", "unix://"+sock)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+filepath.Join(dir, "containers.conf"), "CONTAINERS_STORAGE_CONF="+filepath.Join(dir, "storage.conf"))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start podman: %w", err)
	}
	stop := func() {
		// Containers first: their conmon processes outlive the service.
		if c, err := client.New(client.WithHost("unix://" + sock)); err == nil {
			ctx := context.Background()
			if res, err := c.ContainerList(ctx, client.ContainerListOptions{All: true}); err == nil {
				for _, ct := range res.Items {
					c.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true})
				}
			}
			c.Close()
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		// The storage's own mount can outlive the service a moment.
		for range 10 {
			unmountBelow(dir)
			if os.RemoveAll(dir) == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := client.New(client.WithHost("unix://" + sock))
		if err == nil {
			_, err = c.Ping(context.Background(), client.PingOptions{})
			c.Close()
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("podman service did not answer: %v\n%s", err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	engineHost = "unix://" + sock
	return stop, nil
}

// unmountBelow unmounts what the storage left mounted under dir, deepest
// first.
func unmountBelow(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		unix.Unmount(points[i], unix.MNT_DETACH)
	}
}

// newDriver is a driver on the test engine, closed after t.
func newDriver(t testing.TB) *Driver {
	t.Helper()
	if engineHost == "" {
		t.Skip(noEngine)
	}
	d, err := New(context.Background(), engineHost, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

var limits = runtime.Limits{MemoryBytes: 256 << 20, CPUs: 0.5, Pids: 64}

// output is an io.Writer for a container's output that tests read while
// it is written.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

func TestBuild(t *testing.T) {
	d := newDriver(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "main.js"), []byte("console.log('built by ' + process.version)"), 0o644)
	var out output
	err := d.Build(context.Background(), deploy.BuildSpec{ProjectID: "p1", Dir: dir, Limits: limits, Env: []string{"GREETING=hi"},
		Steps: []string{"mkdir -p dist && node main.js > dist/version.txt", "echo $GREETING from $(id -u) in $PWD",
			// No capabilities, and no way to gain any.
			`grep -E '^(CapEff|CapPrm|NoNewPrivs)' /proc/self/status`}}, &out)
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out.String())
	}
	got, err := os.ReadFile(filepath.Join(dir, "dist", "version.txt"))
	if err != nil || !strings.HasPrefix(string(got), "built by v") {
		t.Fatalf("the step's output file: %q, %v", got, err)
	}
	uid := os.Getuid()
	if uid == 0 {
		uid = runtime.SandboxUID("deploy-p1")
	}
	for _, want := range []string{"$ mkdir -p dist", "done in", fmt.Sprintf("hi from %d in %s", uid, runtime.ProjectDir),
		"CapPrm:\t0000000000000000", "CapEff:\t0000000000000000", "NoNewPrivs:\t1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBuildFailure(t *testing.T) {
	d := newDriver(t)
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		steps   []string
		want    string
	}{
		// Killed by the memory limit. Whether the engine says it was the
		// limit varies (Podman over cgroup v1 does not), so only the kill
		// is certain.
		{"out of memory", time.Minute, []string{`node -e "const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))"`}, "was killed"},
		{"exit code", time.Minute, []string{"echo one", "exit 3", "echo never"}, "exit 3 exited with code 3"},
		{"killed", time.Minute, []string{"sh -c 'kill -9 $$'"}, "was killed (killed)"},
		{"out of time", 2 * time.Second, []string{"sleep 60"}, "sleep 60 ran out of time"},
		{"no network", time.Minute, []string{`node -e "require('net').connect(53, '1.1.1.1').on('error', e => { console.error(e.code); process.exit(9) })"`},
			"exited with code 9"},
		{"read-only root", time.Minute, []string{"touch /usr/x"}, "touch /usr/x exited with code 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			var out output
			err := d.Build(ctx, deploy.BuildSpec{ProjectID: "p2", Dir: t.TempDir(), Steps: tc.steps, Limits: limits}, &out)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q\n%s", err, tc.want, out.String())
			}
			if strings.Contains(out.String(), "never") {
				t.Errorf("a step after the failed one ran:\n%s", out.String())
			}
		})
	}
}

func TestExec(t *testing.T) {
	d := newDriver(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "job.sh"), []byte("echo job ran with $TOKEN; exit 7\n"), 0o644)
	var out output
	exit, err := d.Exec(context.Background(), deploy.ExecSpec{ProjectID: "p3", Dir: dir, Command: "sh job.sh", Env: []string{"TOKEN=t0k"}, Limits: limits}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if exit != (runtime.Exit{Code: 7}) || !strings.Contains(out.String(), "job ran with t0k") {
		t.Fatalf("exit %+v, output %q", exit, out.String())
	}
}

// helloRelease writes a Node hello app's release folder.
func helloRelease(t testing.TB) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "server.js"), []byte(`require('http').createServer((req, res) => res.end('hello ' + process.env.NAME + ' from ' + process.getuid())).listen(process.env.PORT, () => console.log('listening on', process.env.PORT))`), 0o644)
	return dir
}

// get asks inst for / until it answers.
func get(t testing.TB, inst deploy.Instance) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return inst.Dial(ctx) }}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := c.Get("http://instance/")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			return string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the instance does not answer: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStart(t *testing.T) {
	d := newDriver(t)
	ctx := context.Background()
	var out output
	spec := deploy.InstanceSpec{ProjectID: "p4", ReleaseID: "r1", ID: "i1", Dir: helloRelease(t), Command: "node server.js",
		Port: 8080, Env: []string{"NAME=world"}, Limits: limits}
	inst, err := d.Start(ctx, spec, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Stop() })
	if got := get(t, inst); got != "hello world from 1000" {
		t.Fatalf("answer %q", got)
	}

	info, err := d.c.ContainerInspect(ctx, inst.(*instance).id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, c := info.Container.HostConfig, info.Container.Config
	if !h.ReadonlyRootfs || h.Memory != limits.MemoryBytes || h.NanoCPUs != 5e8 || h.PidsLimit == nil || *h.PidsLimit != 64 {
		t.Errorf("limits not applied: read-only %v, memory %d, nano cpus %d, pids %v", h.ReadonlyRootfs, h.Memory, h.NanoCPUs, h.PidsLimit)
	}
	if c.Labels[labelProject] != "p4" || c.Labels[labelRelease] != "r1" || c.Labels[labelInstance] != "i1" || !strings.HasSuffix(c.Image, "ecode/p4:r1") {
		t.Errorf("labels %v, image %s", c.Labels, c.Image)
	}
	if _, ok := info.Container.NetworkSettings.Networks[internalNet]; !ok || len(info.Container.NetworkSettings.Networks) != 1 {
		t.Errorf("networks %v, want only %s for a project without internet", info.Container.NetworkSettings.Networks, internalNet)
	}

	if err := inst.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inst.Done():
	default:
		t.Fatal("Done is open after Stop")
	}
	if err := inst.Stop(); err != nil {
		t.Fatalf("a second Stop: %v", err)
	}
	if !strings.Contains(out.String(), "listening on 8080") {
		t.Errorf("the instance's output: %q", out.String())
	}
	if _, err := d.c.ContainerInspect(ctx, inst.(*instance).id, client.ContainerInspectOptions{}); err == nil {
		t.Error("the container outlived Stop")
	}
	if err := d.RemoveRelease(ctx, "p4", "r1"); err != nil {
		t.Fatal(err)
	}
}

func TestStartWithInternet(t *testing.T) {
	d := newDriver(t)
	inst, err := d.Start(context.Background(), deploy.InstanceSpec{ProjectID: "p7", ReleaseID: "r1", ID: "i4", Dir: helloRelease(t),
		Command: "node server.js", Port: 3000, Env: []string{"NAME=net"}, Internet: true, Limits: limits}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Stop() })
	if got := get(t, inst); got != "hello net from 1000" {
		t.Fatalf("answer %q", got)
	}
	info, err := d.c.ContainerInspect(context.Background(), inst.(*instance).id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := info.Container.NetworkSettings.Networks[internalNet]; ok {
		t.Errorf("a project with internet is on the internal network")
	}
}

func TestInstanceEnds(t *testing.T) {
	d := newDriver(t)
	inst, err := d.Start(context.Background(), deploy.InstanceSpec{ProjectID: "p5", ReleaseID: "r1", ID: "i2", Dir: t.TempDir(),
		Command: "echo bye; exit 4", Port: 8080, Limits: limits}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-inst.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("Done stays open after the command ended")
	}
	if exit, err := inst.Exit(); err != nil || exit.Code != 4 {
		t.Fatalf("exit %+v, %v", exit, err)
	}
}

func TestOrphansRemoved(t *testing.T) {
	d := newDriver(t)
	inst, err := d.Start(context.Background(), deploy.InstanceSpec{ProjectID: "p6", ReleaseID: "r1", ID: "i3", Dir: helloRelease(t),
		Command: "node server.js", Port: 8080, Limits: limits}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	newDriver(t) // a server started after this one ended
	select {
	case <-inst.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the earlier server's instance still runs")
	}
}

// BenchmarkBaseImage times making the base image from the host.
func BenchmarkBaseImage(b *testing.B) {
	d := newDriver(b)
	for b.Loop() {
		b.StopTimer()
		if d.base != "" {
			if _, err := d.c.ImageRemove(context.Background(), d.base, client.ImageRemoveOptions{Force: true}); err != nil {
				b.Fatal(err)
			}
			d.base = ""
		}
		b.StartTimer()
		if _, err := d.baseImage(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStart times an instance's start until it answers: cold makes
// the release's image first, warm reuses it.
func BenchmarkStart(b *testing.B) {
	d := newDriver(b)
	dir := helloRelease(b)
	if _, err := d.baseImage(context.Background()); err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			n := 0
			for b.Loop() {
				n++
				release := "warm"
				if mode == "cold" {
					release = fmt.Sprintf("cold%d", n)
				}
				inst, err := d.Start(context.Background(), deploy.InstanceSpec{ProjectID: "bench", ReleaseID: release, ID: fmt.Sprintf("%s%d", mode, n),
					Dir: dir, Command: "node server.js", Port: 8080, Limits: limits}, io.Discard)
				if err != nil {
					b.Fatal(err)
				}
				get(b, inst)
				b.StopTimer()
				inst.Stop()
				if mode == "cold" {
					d.RemoveRelease(context.Background(), "bench", release)
				}
				b.StartTimer()
			}
		})
	}
}
