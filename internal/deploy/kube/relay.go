package kube

import (
	corev1 "k8s.io/api/core/v1"

	"ecode/internal/runtime"
	"ecode/internal/runtime/agent"
	rkube "ecode/internal/runtime/kube"
)

// A pod of the driver's reaches its project's services (its production
// database, key-value store, object storage) as a sandbox does: on its
// loopback, through an agent in a container beside it (rkube.RelayAgent)
// that the server connects to once the pod runs.

// relaysOf is what projectID's workloads reach on their loopback.
func (d *Driver) relaysOf(projectID string) []runtime.Relay {
	if d.relays == nil {
		return nil
	}
	return d.relays(projectID)
}

// withRelays is env, the workload's own, after what its commands are
// told of the services (env wins, as in a sandbox).
func withRelays(relays []runtime.Relay, env []string) []string {
	return runtime.MergeEnv(runtime.RelayEnv(relays), env)
}

// serveRelays serves relays at pod's relay agent, if it has one, with the
// token in its spec; stop ends them.
func serveRelays(pod *corev1.Pod, relays []runtime.Relay) (stop func()) {
	for _, c := range pod.Spec.InitContainers { // a sidecar
		if c.Name != rkube.RelayContainer {
			continue
		}
		for _, e := range c.Env {
			if e.Name == agent.TokenEnv && len(relays) > 0 && pod.Status.PodIP != "" {
				return rkube.ServeRelays(pod.Status.PodIP, e.Value, relays)
			}
		}
	}
	return func() {}
}
