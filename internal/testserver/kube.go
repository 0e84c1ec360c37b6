package testserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ecode/internal/config"
	"ecode/internal/runtime/kube"
)

// KubeconfigEnv names the test cluster's kubeconfig: with
// ECODE_TEST_RUNTIME=kube every test server runs its sandboxes there.
const KubeconfigEnv = "ECODE_TEST_KUBECONFIG"

// Kubeconfig is the test cluster's kubeconfig (.ci/kube/up.sh's unless
// KubeconfigEnv names another); "" when there is none.
func Kubeconfig() string {
	path := os.Getenv(KubeconfigEnv)
	if path == "" {
		path = "/tmp/kube-try/pki/admin.kubeconfig"
	}
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}

var (
	registryOnce sync.Once
	registryAddr string
)

// Registry is an image registry on the host's loopback, speaking the real
// protocol, which the test cluster's node pulls from over plain HTTP; one
// per test process.
func Registry(t testing.TB) string {
	t.Helper()
	registryOnce.Do(func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return
		}
		go http.Serve(ln, registry.New(registry.Logger(log.New(io.Discard, "", 0))))
		registryAddr = ln.Addr().String()
	})
	if registryAddr == "" {
		t.Fatal("no loopback address for the test registry")
	}
	return registryAddr
}

var (
	imageOnce sync.Once
	imageRef  string
	imageErr  error
)

// SandboxImage is the sandbox image of the test cluster, made once per
// test process with the small agent binary (built here) and pushed to
// Registry: a test server on kube then starts its first sandbox at once.
func SandboxImage(t testing.TB) string {
	t.Helper()
	imageOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ecode-agent-")
		if err != nil {
			imageErr = err
			return
		}
		defer os.RemoveAll(dir)
		agent := filepath.Join(dir, "ecode-agent")
		build := exec.Command("go", "build", "-o", agent, "ecode/cmd/ecode-agent")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			imageErr = fmt.Errorf("build the agent: %v\n%s", err, out)
			return
		}
		fsys, err := kube.SandboxImage(agent)
		if err != nil {
			imageErr = err
			return
		}
		imageRef, imageErr = kube.Push(context.Background(), fsys, Registry(t)+"/ecode/sandbox")
	})
	if imageErr != nil {
		t.Fatal(imageErr)
	}
	return imageRef
}

// onKube moves cfg's sandboxes to the test cluster when ECODE_TEST_RUNTIME
// says so, and its deployments' apps and scheduled runs to Kubernetes
// objects when ECODE_TEST_DEPLOY_DRIVER=kube too, under a server id of their
// data dir's, and removes everything the server made there when the test
// ends.
func onKube(t testing.TB, cfg *config.Config) {
	t.Helper()
	if os.Getenv("ECODE_TEST_RUNTIME") != "kube" || cfg.Runtime == "kube" {
		return
	}
	path := Kubeconfig()
	if path == "" {
		t.Fatal("ECODE_TEST_RUNTIME=kube, but there is no cluster: start one with .ci/kube/up.sh")
	}
	WithKube(path, "default", Registry(t))(cfg)
	cfg.SandboxImage = SandboxImage(t)
	if os.Getenv("ECODE_TEST_DEPLOY_DRIVER") == "kube" {
		cfg.DeployDriver = "kube"
	}
	// One id per data dir: a server started again over the same data is
	// the same server, and finds what its earlier run left.
	sum := sha256.Sum256([]byte(cfg.DataDir))
	cfg.ServerID = "test-" + hex.EncodeToString(sum[:8])
	t.Cleanup(func() {
		cs, _, err := kube.Client(path)
		if err != nil {
			return
		}
		// The server's ConfigMap owns its pods and policy: they go with it.
		_ = cs.CoreV1().ConfigMaps("default").Delete(context.Background(), kube.AnchorName(cfg.ServerID), metav1.DeleteOptions{})
	})
}
