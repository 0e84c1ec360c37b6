package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"

	authv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	rkube "ecode/internal/runtime/kube"
)

// needs are what the driver does in its namespace, beyond the runtime's.
var needs = []authv1.ResourceAttributes{
	{Group: "apps", Resource: "deployments", Verb: "create"},
	{Group: "apps", Resource: "deployments", Verb: "get"},
	{Group: "apps", Resource: "deployments", Verb: "delete"},
	{Group: "apps", Resource: "deployments", Verb: "deletecollection"},
	{Resource: "services", Verb: "create"},
	{Resource: "services", Verb: "list"},
	{Resource: "services", Verb: "delete"},
	{Group: "batch", Resource: "jobs", Verb: "create"},
	{Group: "batch", Resource: "jobs", Verb: "get"},
	{Group: "batch", Resource: "jobs", Verb: "delete"},
	{Group: "batch", Resource: "jobs", Verb: "deletecollection"},
	{Resource: "secrets", Verb: "create"},
	{Resource: "secrets", Verb: "update"},
	{Resource: "secrets", Verb: "patch"},
	{Resource: "secrets", Verb: "delete"},
	{Resource: "secrets", Verb: "deletecollection"},
	{Group: "batch", Resource: "cronjobs", Verb: "create"},
	{Group: "batch", Resource: "cronjobs", Verb: "get"},
	{Group: "batch", Resource: "cronjobs", Verb: "update"},
	{Group: "batch", Resource: "cronjobs", Verb: "delete"},
	{Group: "batch", Resource: "jobs", Verb: "list"},
	{Group: "batch", Resource: "jobs", Verb: "watch"},
	{Group: "batch", Resource: "jobs", Verb: "patch"},
	{Group: "discovery.k8s.io", Resource: "endpointslices", Verb: "list"},
	{Resource: "pods", Verb: "list"},
	{Resource: "pods", Verb: "watch"},
	{Resource: "pods", Subresource: "log", Verb: "get"},
}

// check tells whether this server may do what the driver does; the error
// names what it may not.
func (d *Driver) check(ctx context.Context) error {
	denied, err := rkube.Denied(ctx, d.cs, d.ns, needs)
	if err != nil {
		return err
	}
	if len(denied) > 0 {
		return fmt.Errorf("the server's Kubernetes account may not %s in namespace %s, which the kube deploy driver does: grant them to its Role (RBAC)",
			strings.Join(denied, ", "), d.ns)
	}
	return nil
}

// removeLeftovers deletes the instances and runs of an earlier run of
// this server: nobody routes to those instances any more, and those runs
// were cut off.
func (d *Driver) removeLeftovers(ctx context.Context) error {
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	apps := metav1.ListOptions{LabelSelector: labelsOf(d.labels(roleApp))}
	var errs []error
	if err := d.cs.AppsV1().Deployments(d.ns).DeleteCollection(ctx, del, apps); err != nil {
		errs = append(errs, fmt.Errorf("Deployments: %w", err))
	}
	// Services have no DeleteCollection.
	svcs, err := d.cs.CoreV1().Services(d.ns).List(ctx, apps)
	if err != nil {
		errs = append(errs, fmt.Errorf("Services: %w", err))
	} else {
		for _, s := range svcs.Items {
			if err := d.cs.CoreV1().Services(d.ns).Delete(ctx, s.Name, del); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("Service %s: %w", s.Name, err))
			}
		}
	}
	runs := metav1.ListOptions{LabelSelector: labelsOf(d.labels(roleExec))}
	if err := d.cs.BatchV1().Jobs(d.ns).DeleteCollection(ctx, del, runs); err != nil {
		errs = append(errs, fmt.Errorf("Jobs: %w", err))
	}
	// Secrets that never got to their workload; the others go with it.
	env := metav1.ListOptions{LabelSelector: labelsOf(d.labels(roleEnv))}
	if err := d.cs.CoreV1().Secrets(d.ns).DeleteCollection(ctx, del, env); err != nil {
		errs = append(errs, fmt.Errorf("Secrets: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return rkube.Explain(fmt.Errorf("remove what an earlier server left: %w", err))
	}
	return nil
}
