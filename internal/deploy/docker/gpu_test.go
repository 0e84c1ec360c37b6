package docker

import (
	"context"
	"errors"
	"io"
	"reflect"
	"slices"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"ecode/internal/deploy"
	"ecode/internal/errs"
	"ecode/internal/gpu"
)

// An instance's container asks the engine for its leased GPU by UUID, and
// names it in the env; one without a GPU, or with a simulated one, asks
// for none and gets NVIDIA_VISIBLE_DEVICES=void whatever its project's env
// says.
func TestContainerConfigGPU(t *testing.T) {
	sim := simulatedUnit(t)
	whole := realUnit()
	slice := &gpu.Unit{UUID: "MIG-0929581a-2be6-5dec-bf34-0954c6c529a6", Name: "MIG 1g.10gb", Profile: "1g.10gb", MemoryMiB: 9984,
		Nodes: []string{"/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-caps/nvidia-cap12", "/dev/nvidia-caps/nvidia-cap13"}}
	request := func(uuid string) []container.DeviceRequest {
		return []container.DeviceRequest{{Driver: "nvidia", DeviceIDs: []string{uuid}, Capabilities: [][]string{{"gpu"}}}}
	}
	for _, tc := range []struct {
		name    string
		unit    *gpu.Unit
		request []container.DeviceRequest
		env     []string
	}{
		{"none", nil, nil, []string{"CUDA_VISIBLE_DEVICES=", "NVIDIA_VISIBLE_DEVICES=void"}},
		{"whole GPU", whole, request(whole.UUID), []string{"CUDA_VISIBLE_DEVICES=" + whole.UUID, "NVIDIA_VISIBLE_DEVICES=" + whole.UUID}},
		{"MIG slice", slice, request(slice.UUID), []string{"CUDA_VISIBLE_DEVICES=" + slice.UUID, "NVIDIA_VISIBLE_DEVICES=" + slice.UUID}},
		{"simulated", sim, nil, []string{"CUDA_VISIBLE_DEVICES=GPU-SIMULATED-0", "NVIDIA_VISIBLE_DEVICES=void"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, host := containerConfig(spec{role: "instance", project: "p1", image: "ecode/p1:r1", network: internalNet, limits: limits, gpu: tc.unit,
				env: []string{"PORT=8080", "NVIDIA_VISIBLE_DEVICES=all", "CUDA_VISIBLE_DEVICES=0,1"}})
			if !reflect.DeepEqual(host.DeviceRequests, tc.request) {
				t.Errorf("device requests %+v, want %+v", host.DeviceRequests, tc.request)
			}
			for _, kv := range append(tc.env, "PORT=8080") {
				if !slices.Contains(cfg.Env, kv) {
					t.Errorf("env lacks %s: %q", kv, cfg.Env)
				}
			}
			for _, kv := range []string{"NVIDIA_VISIBLE_DEVICES=all", "CUDA_VISIBLE_DEVICES=0,1"} {
				if slices.Contains(cfg.Env, kv) {
					t.Errorf("the project's %s is kept: %q", kv, cfg.Env)
				}
			}
			// The GPU changes nothing of the hardening.
			if !host.ReadonlyRootfs || !slices.Equal(host.CapDrop, []string{"ALL"}) || host.Privileged || len(host.Devices) != 0 {
				t.Errorf("host config loosened: %+v", host)
			}
		})
	}
}

// realUnit is a whole GPU as a pool on a host with one leases it.
func realUnit() *gpu.Unit {
	return &gpu.Unit{UUID: "GPU-5a1f0e2b-7c3d-4e8f-9a0b-1c2d3e4f5a6b", Name: "NVIDIA A100-SXM4-80GB", MemoryMiB: 81920,
		Nodes: []string{"/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm"}}
}

// simulatedUnit is a GPU of gpu.Simulated's, as its pool leases it.
func simulatedUnit(t testing.TB) *gpu.Unit {
	t.Helper()
	inv, err := gpu.Simulated("1xA100-80GB")
	if err != nil {
		t.Fatal(err)
	}
	return &gpu.NewPool(inv, gpu.Options{}).Snapshot().Units[0].Unit
}

// The test engine, Podman, takes a GPU request and drops it: the start
// fails saying so, and leaves no container, rather than run an instance
// without the GPU it was given. A simulated GPU, never asked of the
// engine, starts.
func TestStartGPU(t *testing.T) {
	d := newDriver(t)
	ctx := context.Background()
	spec := deploy.InstanceSpec{ProjectID: "p8", ReleaseID: "r1", ID: "i5", Dir: helloRelease(t), Command: "node server.js",
		Port: 8080, Env: []string{"NAME=gpu"}, Limits: limits, GPU: realUnit()}
	_, err := d.Start(ctx, spec, io.Discard)
	var e *errs.Error
	if !errors.As(err, &e) || e.Code != "docker_gpu_unsupported" {
		t.Fatalf("start with a GPU on Podman: %v", err)
	}
	left, err := d.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: client.Filters{}.Add("label", labelInstance+"=i5")})
	if err != nil || len(left.Items) != 0 {
		t.Errorf("containers left: %d (%v)", len(left.Items), err)
	}

	spec.ID, spec.GPU = "i6", simulatedUnit(t)
	inst, err := d.Start(ctx, spec, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Stop() })
	if got := get(t, inst); got != "hello gpu from 1000" {
		t.Fatalf("answer %q", got)
	}
	info, err := d.c.ContainerInspect(ctx, inst.(*instance).id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if env := info.Container.Config.Env; !slices.Contains(env, "CUDA_VISIBLE_DEVICES=GPU-SIMULATED-0") || !slices.Contains(env, "NVIDIA_VISIBLE_DEVICES=void") {
		t.Errorf("env %q", env)
	}
	if err := d.RemoveRelease(ctx, "p8", "r1"); err != nil {
		t.Fatal(err)
	}
}
