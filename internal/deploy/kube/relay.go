package kube

import (
	"crypto/rand"

	corev1 "k8s.io/api/core/v1"

	"ecode/internal/runtime/agent"

	"ecode/internal/runtime"
	rkube "ecode/internal/runtime/kube"
)

// A pod of the driver's reaches its project's services (its production
// database, key-value store, object storage) as a sandbox does: on its
// loopback, through an agent in a container beside it (rkube.RelayAgent)
// that the server connects to once the pod runs.

// relay is the relays of one workload and its agent's token.
type relay struct {
	relays []runtime.Relay
	token  string
}

// relayOf is the relays of projectID's workloads; nil when it has none.
func (d *Driver) relayOf(projectID string) *relay {
	if d.relays == nil {
		return nil
	}
	rs := d.relays(projectID)
	if len(rs) == 0 {
		return nil
	}
	return &relay{relays: rs, token: rand.Text()}
}

// withRelays is env, the workload's own, after what its commands are
// told of the services (env wins, as in a sandbox).
func withRelays(relays []runtime.Relay, env []string) []string {
	var base []string
	for _, r := range relays {
		base = append(base, r.Env...)
	}
	return runtime.MergeEnv(base, env)
}

// relaysOf is r's relays; none for nil.
func (r *relay) relaysOf() []runtime.Relay {
	if r == nil {
		return nil
	}
	return r.relays
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
