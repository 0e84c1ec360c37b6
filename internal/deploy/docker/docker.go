// Package docker is the deploy driver over a Docker Engine API (Docker, or
// Podman's compatible service): builds and scheduled runs in a throwaway
// container over their folder, and each app release as an image of its
// own that instances run from.
//
// Nothing is pulled from a registry. The base image is made here from the
// host's own toolchain (see image.go), once per content; a release image
// is that base plus the release's app folder. Every container runs without
// capabilities or new privileges, on a read-only root with its own /tmp,
// held to the project's limits. A project that may reach the internet gets
// the engine's bridge network; otherwise builds and runs get no network
// at all, and instances an internal one, where the server reaches them
// and they reach nothing beyond. An instance with a GPU asks the engine's
// nvidia device driver for exactly that one, by UUID; an engine that
// drops the request (Podman's Docker API) fails the start.
package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"ecode/internal/deploy"
	"ecode/internal/errs"
	"ecode/internal/gpu"
	"ecode/internal/runtime"
	"ecode/internal/safefs"
)

// Labels on every container and image the driver makes: what it belongs
// to, so that a later server finds what an earlier one left.
const (
	labelProject  = "ecode.project"
	labelRelease  = "ecode.release"
	labelInstance = "ecode.instance"
	labelRole     = "ecode.role" // build, exec or instance
)

// internalNet is the network instances of projects without internet join:
// the server reaches them there, they reach nothing beyond it.
const internalNet = "ecode-internal"

// Sizes of the writable tmpfs folders of a container; they count against
// its memory limit.
const (
	tmpSize   = "256m"
	cacheSize = "512m"
)

// Driver is the docker deploy driver.
type Driver struct {
	c   *client.Client
	log *slog.Logger

	// images serialises making images: two starts of one release build
	// its image once.
	images sync.Mutex
	base   string // the base image's reference once made
}

var _ deploy.Driver = (*Driver)(nil)

// New connects to the engine at host (such as unix:///var/run/docker.sock),
// removes the containers an earlier server left, and makes the internal
// network when it is missing.
func New(ctx context.Context, host string, log *slog.Logger) (*Driver, error) {
	c, err := client.New(client.WithHost(host))
	if err != nil {
		return nil, fmt.Errorf("docker client for %s: %w", host, err)
	}
	d := &Driver{c: c, log: log}
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		c.Close()
		return nil, fmt.Errorf("the Docker engine at %s does not answer: %w", host, err)
	}
	if err := d.removeOrphans(ctx); err != nil {
		c.Close()
		return nil, err
	}
	if err := d.ensureInternalNet(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the connection to the engine; instances still running are
// left to the next server's New.
func (d *Driver) Close() error { return d.c.Close() }

// Name implements deploy.Driver.
func (d *Driver) Name() string { return "docker" }

// removeOrphans removes every container of an earlier server: its builds
// and runs were cut off, and its instances have nobody routing to them.
func (d *Driver) removeOrphans(ctx context.Context) error {
	res, err := d.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", labelRole)})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	for _, c := range res.Items {
		if err := d.remove(ctx, c.ID); err != nil {
			return err
		}
		d.log.Info("removed a container left by an earlier server", "container", c.ID[:12], "project", c.Labels[labelProject])
	}
	return nil
}

func (d *Driver) ensureInternalNet(ctx context.Context) error {
	_, err := d.c.NetworkInspect(ctx, internalNet, client.NetworkInspectOptions{})
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect network %s: %w", internalNet, err)
	}
	_, err = d.c.NetworkCreate(ctx, internalNet, client.NetworkCreateOptions{Driver: "bridge", Internal: true})
	if err != nil && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("create network %s: %w", internalNet, err)
	}
	return nil
}

// Build implements deploy.Driver: each step in a container of its own over
// the build folder, so what one step leaves there the next one finds.
func (d *Driver) Build(ctx context.Context, b deploy.BuildSpec, out io.Writer) error {
	user, err := handOver(b.Dir, "deploy-"+b.ProjectID)
	if err != nil {
		return fmt.Errorf("hand the build folder to its container: %w", err)
	}
	image, err := d.baseImage(ctx)
	if err != nil {
		return err
	}
	return deploy.RunSteps(ctx, b.Steps, out, func(cmd string) (runtime.Exit, bool, error) {
		box := spec{role: "build", project: b.ProjectID, image: image, cmd: cmd, user: user, env: b.Env,
			bind: b.Dir, network: networkFor(b.Internet, network.NetworkNone), limits: b.Limits}
		return d.runOnce(ctx, box, out)
	})
}

// Exec implements deploy.Driver: the command in a container over the run's
// copy of the release.
func (d *Driver) Exec(ctx context.Context, e deploy.ExecSpec, out io.Writer) (runtime.Exit, error) {
	user, err := handOver(e.Dir, "cron-"+e.ProjectID)
	if err != nil {
		return runtime.Exit{}, fmt.Errorf("hand the run's folder to its container: %w", err)
	}
	image, err := d.baseImage(ctx)
	if err != nil {
		return runtime.Exit{}, err
	}
	box := spec{role: "exec", project: e.ProjectID, image: image, cmd: e.Command, user: user, env: e.Env,
		bind: e.Dir, network: networkFor(e.Internet, network.NetworkNone), limits: e.Limits}
	exit, _, err := d.runOnce(ctx, box, out)
	if err != nil && ctx.Err() == nil {
		return exit, fmt.Errorf("%s did not finish: %w", e.Command, err)
	}
	return exit, nil
}

// Start implements deploy.Driver: a container of the release's image.
func (d *Driver) Start(ctx context.Context, i deploy.InstanceSpec, out io.Writer) (deploy.Instance, error) {
	image, err := d.releaseImage(ctx, i)
	if err != nil {
		return nil, err
	}
	box := spec{role: "instance", project: i.ProjectID, release: i.ReleaseID, instance: i.ID, image: image,
		env: runtime.MergeEnv(i.Env, []string{"PORT=" + strconv.Itoa(i.Port)}), limits: i.Limits,
		network: networkFor(i.Internet, internalNet), gpu: i.GPU}
	// The instance lives until Stop, not as long as the request that
	// started it.
	life := context.WithoutCancel(ctx)
	id, output, err := d.launch(ctx, box)
	if err != nil {
		return nil, fmt.Errorf("%s did not start: %w", i.Command, err)
	}
	info, err := d.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		output.Close()
		d.remove(life, id)
		return nil, fmt.Errorf("inspect instance %s: %w", i.ID, err)
	}
	inst := &instance{d: d, id: id, done: make(chan struct{})}
	addr, err := address(info.Container, box.network)
	switch {
	case err == nil:
		inst.addr = net.JoinHostPort(addr, strconv.Itoa(i.Port))
	case info.Container.State == nil || info.Container.State.Running:
		output.Close()
		d.remove(life, id)
		return nil, err
	}
	// A container that has already ended has no address: it is reported
	// ended below, and dialing it fails.
	go func() {
		var oom bool
		inst.exit, oom, inst.err = d.follow(life, id, output, out)
		if oom {
			inst.err = errOutOfMemory
		}
		d.remove(life, id)
		close(inst.done)
	}()
	return inst, nil
}

// address is the container's address on network net.
func address(c container.InspectResponse, net string) (string, error) {
	if c.NetworkSettings != nil {
		for name, ep := range c.NetworkSettings.Networks {
			// Podman names the bridge network by its own name.
			if ep != nil && ep.IPAddress.IsValid() && (name == net || net == network.NetworkBridge) {
				return ep.IPAddress.String(), nil
			}
		}
	}
	return "", fmt.Errorf("the instance has no address on network %s", net)
}

type instance struct {
	d    *Driver
	id   string
	addr string
	done chan struct{}
	exit runtime.Exit // set before done is closed
	err  error
	stop sync.Once
}

func (i *instance) Dial(ctx context.Context) (net.Conn, error) {
	if i.addr == "" {
		return nil, errors.New("the instance ended before it had an address")
	}
	var dl net.Dialer
	return dl.DialContext(ctx, "tcp", i.addr)
}

func (i *instance) Done() <-chan struct{} { return i.done }

func (i *instance) Exit() (runtime.Exit, error) {
	<-i.done
	return i.exit, i.err
}

func (i *instance) Stop() error {
	var err error
	i.stop.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err = i.d.remove(ctx, i.id)
	})
	<-i.done
	return err
}

var errOutOfMemory = errors.New("it ran out of memory")

// spec is one container the driver runs.
type spec struct {
	role, project, release, instance string

	image   string
	cmd     string // shell command; empty runs the image's own
	user    string // uid:gid; empty is the image's
	env     []string
	bind    string // host folder at runtime.ProjectDir, writable
	network string
	limits  runtime.Limits
	gpu     *gpu.Unit // nil: none
}

// create creates the container of s, hardened and limited.
func (d *Driver) create(ctx context.Context, s spec) (string, error) {
	cfg, host := containerConfig(s)
	res, err := d.c.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: host})
	if err != nil {
		return "", fmt.Errorf("create the %s container: %w", s.role, err)
	}
	if len(host.DeviceRequests) > 0 {
		if err := d.checkGPU(ctx, res.ID); err != nil {
			d.remove(context.WithoutCancel(ctx), res.ID)
			return "", err
		}
	}
	return res.ID, nil
}

// checkGPU fails when the engine dropped container id's GPU request
// instead of refusing it: Podman's Docker API does, and the container
// would run without the GPU it is billed for.
func (d *Driver) checkGPU(ctx context.Context, id string) error {
	info, err := d.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspect container %s: %w", id[:12], err)
	}
	if h := info.Container.HostConfig; h == nil || len(h.DeviceRequests) == 0 {
		return errs.Unavailable("docker_gpu_unsupported",
			"GPU deployments cannot run on this server: its container engine ignores GPU requests (Podman's Docker API does); use Docker with the NVIDIA container toolkit.")
	}
	return nil
}

// containerConfig is what the engine is asked to create for s.
func containerConfig(s spec) (*container.Config, *container.HostConfig) {
	cfg := &container.Config{
		Image: s.image,
		User:  s.user,
		// The GPU's env comes last: a project's own cannot widen it.
		Env:        runtime.MergeEnv(runtime.MergeEnv(runtime.BaseEnv(false), s.env), gpuEnv(s.gpu)),
		WorkingDir: runtime.ProjectDir,
		Labels:     map[string]string{labelRole: s.role, labelProject: s.project},
	}
	if s.cmd != "" {
		cfg.Cmd = []string{"sh", "-c", s.cmd}
	}
	if s.release != "" {
		cfg.Labels[labelRelease] = s.release
	}
	if s.instance != "" {
		cfg.Labels[labelInstance] = s.instance
	}
	host := &container.HostConfig{
		NetworkMode:    container.NetworkMode(s.network),
		ReadonlyRootfs: true,
		Tmpfs: map[string]string{
			"/tmp":                      "rw,nosuid,nodev,size=" + tmpSize,
			runtime.HomeDir + "/.cache": "rw,nosuid,nodev,size=" + cacheSize,
		},
		SecurityOpt: []string{"no-new-privileges"},
		CapDrop:     []string{"ALL"},
		Resources:   resources(s.limits),
	}
	if s.bind != "" {
		host.Binds = []string{s.bind + ":" + runtime.ProjectDir}
	}
	if s.gpu != nil && !simulated(s.gpu) {
		// Exactly this GPU or MIG slice, by UUID: the engine's nvidia
		// driver has the NVIDIA container toolkit give the container its
		// device nodes and the driver's libraries. The capability "gpu"
		// alone leaves the toolkit's default ones, compute and utility.
		host.DeviceRequests = []container.DeviceRequest{{Driver: "nvidia", DeviceIDs: []string{s.gpu.UUID}, Capabilities: [][]string{{"gpu"}}}}
	}
	return cfg, host
}

// simulated says whether u is one of gpu.Simulated's: nothing on the host
// backs it (it has no device nodes), so the engine, which would refuse an
// unknown device, is not asked for it.
func simulated(u *gpu.Unit) bool { return len(u.Nodes) == 0 }

// gpuEnv names the container's GPU to CUDA and to the NVIDIA container
// runtime, or says it has none. The runtime renumbers the GPUs a container
// sees from 0, so an index would name the wrong one, but UUIDs are kept:
// CUDA_VISIBLE_DEVICES takes the host's GPU- or MIG- UUID. The engine sets
// NVIDIA_VISIBLE_DEVICES from the device request to that same UUID; "void"
// for a container without a GPU, and for a simulated one, keeps an engine
// whose default runtime is NVIDIA's from giving it any.
func gpuEnv(u *gpu.Unit) []string {
	switch {
	case u == nil:
		return gpu.Env()
	case simulated(u):
		return []string{"CUDA_VISIBLE_DEVICES=" + u.UUID, "NVIDIA_VISIBLE_DEVICES=void"}
	}
	return gpu.Env(u.UUID)
}

// networkFor is the engine's bridge, with its way out, for a project that
// may reach the internet, and network closed for any other.
func networkFor(internet bool, closed string) string {
	if internet {
		return network.NetworkBridge
	}
	return closed
}

// resources are the container's limits; a zero limit is none.
func resources(l runtime.Limits) container.Resources {
	r := container.Resources{NanoCPUs: int64(l.CPUs * 1e9)}
	if l.MemoryBytes > 0 {
		r.Memory = l.MemoryBytes
		r.MemorySwap = l.MemoryBytes // no swap beyond it
	}
	if l.Pids > 0 {
		pids := int64(l.Pids)
		r.PidsLimit = &pids
	}
	return r
}

// runOnce runs the container of s to its end, its output to out, and
// removes it; ending ctx kills it.
func (d *Driver) runOnce(ctx context.Context, s spec, out io.Writer) (runtime.Exit, bool, error) {
	id, output, err := d.launch(ctx, s)
	if err != nil {
		return runtime.Exit{}, false, err
	}
	// Removal must happen even when ctx has ended.
	defer d.remove(context.WithoutCancel(ctx), id)
	type result struct {
		exit runtime.Exit
		oom  bool
		err  error
	}
	ended := make(chan result, 1)
	go func() {
		e, oom, err := d.follow(context.WithoutCancel(ctx), id, output, out)
		ended <- result{e, oom, err}
	}()
	select {
	case r := <-ended:
		return r.exit, r.oom, r.err
	case <-ctx.Done():
		// Removing it ends follow, which then returns how it ended.
		d.remove(context.WithoutCancel(ctx), id)
		r := <-ended
		return r.exit, false, ctx.Err()
	}
}

// launch creates and starts the container of s, attached to its output
// before it starts so that nothing it writes is missed. The engine's log
// stream would do, but Podman's holds back what it has until the end.
func (d *Driver) launch(ctx context.Context, s spec) (string, client.HijackedResponse, error) {
	id, err := d.create(ctx, s)
	if err != nil {
		return "", client.HijackedResponse{}, err
	}
	att, err := d.c.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		d.remove(context.WithoutCancel(ctx), id)
		return "", client.HijackedResponse{}, fmt.Errorf("attach to the %s container: %w", s.role, err)
	}
	if _, err := d.c.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		att.Close()
		d.remove(context.WithoutCancel(ctx), id)
		return "", client.HijackedResponse{}, fmt.Errorf("start the %s container: %w", s.role, err)
	}
	return id, att.HijackedResponse, nil
}

// follow copies container id's output to out until it ends and says how
// it ended, and whether the memory limit killed it.
func (d *Driver) follow(ctx context.Context, id string, output client.HijackedResponse, out io.Writer) (runtime.Exit, bool, error) {
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = stdcopy.StdCopy(out, out, output.Reader)
	}()
	wait := d.c.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	var code int64
	var err error
	select {
	case r := <-wait.Result:
		code = r.StatusCode
	case err = <-wait.Error:
	}
	// The stream ends with the container; one removed under it may leave
	// it open, so it is closed once output has had a moment to settle.
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	output.Close()
	<-copied
	if err != nil {
		return runtime.Exit{}, false, fmt.Errorf("wait: %w", err)
	}
	oom := false
	if info, err := d.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); err == nil && info.Container.State != nil {
		oom = info.Container.State.OOMKilled
	}
	e := exitOf(code)
	return e, oom && e.Signal != "", nil
}

// exitOf reads a container's status as a shell does: above 128 is the
// signal that killed it.
func exitOf(code int64) runtime.Exit {
	if code > 128 && code < 128+65 {
		return runtime.Exit{Code: -1, Signal: strings.ToLower(syscall.Signal(code - 128).String())}
	}
	return runtime.Exit{Code: int(code)}
}

// remove kills and removes container id; one already gone is no error.
func (d *Driver) remove(ctx context.Context, id string) error {
	_, err := d.c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %s: %w", id[:12], err)
	}
	return nil
}

// handOver gives folder dir to the container that writes it and returns
// the user it runs as. A root server gives it to the sandbox uid of id,
// as the local runtime does, so that the container is nobody else on the
// host; any other server keeps it and runs the container as itself. The
// walk goes through safefs: a folder a build has written is hostile.
func handOver(dir, id string) (string, error) {
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		uid = runtime.SandboxUID(id)
		gid = uid
		if err := safefs.ChownTree(dir, uid, gid); err != nil {
			return "", err
		}
	}
	return strconv.Itoa(uid) + ":" + strconv.Itoa(gid), nil
}

// unavailable is the error of an engine that cannot do what was asked.
func unavailable(err error) error {
	return errs.Unavailable("docker_unavailable", "Deployments cannot run on this server: the Docker engine failed (%v).", err)
}
