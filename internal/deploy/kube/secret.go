package kube

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"ecode/internal/runtime"
	rkube "ecode/internal/runtime/kube"
)

// A pod's environment (the project's secrets among it) is in a Secret of
// the pod's workload, never in its spec, where anyone who may read pods
// or the workload would see it.

// envSecret is the Secret name of env, the base environment under it.
func (d *Driver) envSecret(name string, env []string) *corev1.Secret {
	data := map[string][]byte{}
	for _, kv := range runtime.MergeEnv(runtime.BaseEnv(false), env) {
		k, v, _ := strings.Cut(kv, "=")
		data[k] = []byte(v)
	}
	return &corev1.Secret{ObjectMeta: d.meta(name, d.labels(roleEnv)), Type: corev1.SecretTypeOpaque, Data: data}
}

// makeSecret makes the Secret of workload name, then the workload
// (create answers its owner reference), then gives the Secret to it, so
// that it goes with the workload. The Secret is there before the
// workload's pod asks for it.
func (d *Driver) makeSecret(ctx context.Context, name string, env []string, create func() (metav1.OwnerReference, error)) error {
	if err := d.putSecret(ctx, d.envSecret(name, env)); err != nil { // over a leftover of an earlier try
		return fmt.Errorf("make Secret %s: %w", name, err)
	}
	owner, err := create()
	if err != nil {
		d.deleteSecret(ctx, name)
		return err
	}
	patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"apiVersion":%q,"kind":%q,"name":%q,"uid":%q}]}}`, owner.APIVersion, owner.Kind, owner.Name, owner.UID)
	if _, err := d.cs.CoreV1().Secrets(d.ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		// Still the ConfigMap's: removed with the server's leftovers.
		d.log.Warn("give a Secret to its workload", "secret", name, "err", rkube.Explain(err))
	}
	return nil
}

// putSecret creates or replaces s.
func (d *Driver) putSecret(ctx context.Context, s *corev1.Secret) error {
	_, err := d.cs.CoreV1().Secrets(d.ns).Create(ctx, s, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = d.cs.CoreV1().Secrets(d.ns).Update(ctx, s, metav1.UpdateOptions{})
	}
	return rkube.Explain(err)
}

func (d *Driver) deleteSecret(ctx context.Context, name string) {
	err := d.cs.CoreV1().Secrets(d.ns).Delete(context.WithoutCancel(ctx), name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		d.log.Warn("delete a Secret", "secret", name, "err", rkube.Explain(err))
	}
}

// ownerOf is the owner reference of one of the driver's objects.
func ownerOf(apiVersion, kind string, o metav1.Object) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: o.GetName(), UID: o.GetUID()}
}
