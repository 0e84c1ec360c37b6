package kube

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"ecode/internal/runtime"
)

// applyRBAC makes the objects of deploy/kubernetes/rbac.yaml in namespace.
func applyRBAC(t *testing.T, cs kubernetes.Interface, namespace string) {
	t.Helper()
	b, err := os.ReadFile("../../../deploy/kubernetes/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, doc := range strings.Split(string(b), "\n---\n") {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "ServiceAccount":
			var o corev1.ServiceAccount
			must(t, yaml.Unmarshal([]byte(doc), &o))
			o.Namespace = namespace
			_, err = cs.CoreV1().ServiceAccounts(namespace).Create(ctx, &o, metav1.CreateOptions{})
		case "Role":
			var o rbacv1.Role
			must(t, yaml.Unmarshal([]byte(doc), &o))
			o.Namespace = namespace
			_, err = cs.RbacV1().Roles(namespace).Create(ctx, &o, metav1.CreateOptions{})
		case "RoleBinding":
			var o rbacv1.RoleBinding
			must(t, yaml.Unmarshal([]byte(doc), &o))
			o.Namespace = namespace
			for i := range o.Subjects {
				o.Subjects[i].Namespace = namespace
			}
			_, err = cs.RbacV1().RoleBindings(namespace).Create(ctx, &o, metav1.CreateOptions{})
		default:
			t.Fatalf("rbac.yaml holds a %q", meta.Kind)
		}
		must(t, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A server whose account has only the Role of deploy/kubernetes runs
// sandboxes whose project folders come from the claim holding its data
// dir, as on a cluster of several nodes.
func TestDataClaimAndRole(t *testing.T) {
	cs := cluster(t)
	ns := namespace(t, cs)
	ctx := context.Background()
	applyRBAC(t, cs, ns)

	root := t.TempDir()
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-data"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: root}},
			ClaimRef:                      &corev1.ObjectReference{Namespace: ns, Name: "ecode-data"},
		},
	}
	_ = cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
	_, err := cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	must(t, err)
	t.Cleanup(func() { cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}) })
	empty := ""
	_, err = cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "ecode-data"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			StorageClassName: &empty,
			VolumeName:       pv.Name,
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}, metav1.CreateOptions{})
	must(t, err)

	tok, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "ecode", &authnv1.TokenRequest{}, metav1.CreateOptions{})
	must(t, err)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	must(t, writeTokenKubeconfig(kubeconfig, tok.Status.Token, path))

	project := filepath.Join(root, "projects", "p1")
	must(t, os.MkdirAll(project, 0o755))
	must(t, os.WriteFile(filepath.Join(project, "in.txt"), []byte("from the server\n"), 0o644))
	d := newDriver(t, Config{Kubeconfig: path, Namespace: ns, DataClaim: "ecode-data", DataDir: root})
	s := start(t, d, runtime.Spec{ID: "01PROJECTE", ProjectDir: project, CacheDir: filepath.Join(root, "caches", "p1")})
	out, exit := run(t, s, "bash", "-c", "cat in.txt; echo from the pod > out.txt; touch ~/.cache/kept")
	if exit.Code != 0 || out != "from the server\n" {
		t.Fatalf("exec = %q %+v", out, exit)
	}
	if b, err := os.ReadFile(filepath.Join(project, "out.txt")); err != nil || string(b) != "from the pod\n" {
		t.Errorf("out.txt on the server: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(root, "caches", "p1", "kept")); err != nil {
		t.Errorf("the cache is not the claim's: %v", err)
	}
	if _, err := d.Start(ctx, runtime.Spec{ID: "x", ProjectDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "not in the data dir") {
		t.Errorf("a project outside the data dir: %v", err)
	}
}
