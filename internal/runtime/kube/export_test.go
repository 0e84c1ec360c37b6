package kube

// For the tests outside the package (the whole server on this runtime).
var (
	Cluster   = cluster
	Namespace = namespace
)

// ClusterConfig is the kubeconfig of the test cluster and the registry its
// node pulls from.
func ClusterConfig() (string, string) { return kubeconfig, registryAt }
