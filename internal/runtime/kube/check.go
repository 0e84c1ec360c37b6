package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// checkEvery is how long a passed Check holds: each sandbox start asks,
// and the answer rarely changes.
const checkEvery = 30 * time.Second

// needs are what the driver does in its namespace.
var needs = []authv1.ResourceAttributes{
	{Resource: "pods", Verb: "create"},
	{Resource: "pods", Verb: "delete"},
	{Resource: "pods", Verb: "deletecollection"},
	{Resource: "pods", Verb: "watch"},
	{Resource: "configmaps", Verb: "create"},
	{Resource: "networkpolicies", Group: "networking.k8s.io", Verb: "create"},
}

// Check tells whether sandbox pods can start: the API server answers and
// lets this server do what the driver does. The error says the fix.
func (d *Driver) Check(ctx context.Context) error {
	d.checkMu.Lock()
	defer d.checkMu.Unlock()
	if time.Since(d.checked) < checkEvery {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := d.cs.Discovery().ServerVersion(); err != nil {
		return explain(fmt.Errorf("reach the Kubernetes API server: %w", err))
	}
	denied, err := Denied(ctx, d.cs, d.cfg.Namespace, needs)
	if err != nil {
		return err
	}
	if len(denied) > 0 {
		return fmt.Errorf("the server's Kubernetes account may not %s in namespace %s: bind it to the ecode Role of deploy/kubernetes (RBAC)",
			strings.Join(denied, ", "), d.cfg.Namespace)
	}
	d.checked = time.Now()
	return nil
}

// explain adds the fix to an API error whose cause is clear.
func explain(err error) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w (the server's Kubernetes account lacks a permission: see deploy/kubernetes for its Role)", err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%w (the cluster does not accept the server's credentials: check ECODE_KUBECONFIG)", err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w (the Kubernetes API server did not answer in time)", err)
	}
	return err
}
