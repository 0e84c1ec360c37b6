package export

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// roundTrip marshals obj to YAML and decodes that back strictly (an
// unknown or duplicate field is an error) into a new value of obj's type,
// which must equal obj.
func roundTrip(obj any) ([]byte, error) {
	raw, err := yaml.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	back := reflect.New(reflect.TypeOf(obj).Elem()).Interface()
	if err := yaml.UnmarshalStrict(raw, back); err != nil {
		return nil, fmt.Errorf("decode back: %w", err)
	}
	if !equality.Semantic.DeepEqual(obj, back) {
		return nil, errors.New("what was written does not decode back to the same object")
	}
	return raw, nil
}

func kindOf(obj any) string { return reflect.TypeOf(obj).Elem().Name() }

// check refuses what the Kubernetes API server (or Knative's, or Cloud
// Run's) would refuse in the fields an export sets.
func check(obj any, format Format) error {
	var errs field.ErrorList
	meta := func(m *metav1.ObjectMeta, name apivalidation.ValidateNameFunc, max int) {
		errs = append(errs, apivalidation.ValidateObjectMeta(m, false, name, field.NewPath("metadata"))...)
		if len(m.Name) > max {
			errs = append(errs, field.TooLong(field.NewPath("metadata", "name"), m.Name, max))
		}
	}
	pod := func(p *corev1.PodSpec, path *field.Path) {
		if len(p.Containers) != 1 {
			errs = append(errs, field.Invalid(path.Child("containers"), len(p.Containers), "one container"))
		}
		for i := range p.Containers {
			errs = append(errs, checkContainer(&p.Containers[i], path.Child("containers").Index(i))...)
		}
		volumes := map[string]bool{}
		for i, v := range p.Volumes {
			errs = append(errs, dnsLabel(v.Name, path.Child("volumes").Index(i).Child("name"))...)
			volumes[v.Name] = true
		}
		for i, c := range p.Containers {
			for j, m := range c.VolumeMounts {
				if !volumes[m.Name] {
					errs = append(errs, field.NotFound(path.Child("containers").Index(i).Child("volumeMounts").Index(j).Child("name"), m.Name))
				}
			}
		}
	}
	switch o := obj.(type) {
	case *appsv1.Deployment:
		meta(&o.ObjectMeta, apivalidation.NameIsDNSSubdomain, validation.DNS1123SubdomainMaxLength)
		spec := field.NewPath("spec")
		errs = append(errs, metavalidation.ValidateLabelSelector(o.Spec.Selector, metavalidation.LabelSelectorValidationOptions{}, spec.Child("selector"))...)
		if sel, err := metav1.LabelSelectorAsSelector(o.Spec.Selector); err != nil || sel.Empty() || !sel.Matches(labels.Set(o.Spec.Template.Labels)) {
			errs = append(errs, field.Invalid(spec.Child("template", "metadata", "labels"), o.Spec.Template.Labels, "must match the selector"))
		}
		pod(&o.Spec.Template.Spec, spec.Child("template", "spec"))
	case *corev1.Service:
		meta(&o.ObjectMeta, apivalidation.NameIsDNS1035Label, validation.DNS1035LabelMaxLength)
		for i, p := range o.Spec.Ports {
			path := field.NewPath("spec", "ports").Index(i)
			errs = append(errs, portName(p.Name, path.Child("name"))...)
			errs = append(errs, portNum(int(p.Port), path.Child("port"))...)
		}
	case *batchv1.CronJob:
		meta(&o.ObjectMeta, apivalidation.NameIsDNSSubdomain, maxCronJobName)
		spec := field.NewPath("spec")
		if o.Spec.Schedule == "" {
			errs = append(errs, field.Required(spec.Child("schedule"), ""))
		}
		if o.Spec.TimeZone != nil && *o.Spec.TimeZone == "" {
			errs = append(errs, field.Invalid(spec.Child("timeZone"), "", "a time zone name"))
		}
		p := &o.Spec.JobTemplate.Spec.Template.Spec
		if p.RestartPolicy != corev1.RestartPolicyNever && p.RestartPolicy != corev1.RestartPolicyOnFailure {
			errs = append(errs, field.NotSupported(spec.Child("jobTemplate", "spec", "template", "spec", "restartPolicy"), p.RestartPolicy,
				[]corev1.RestartPolicy{corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure}))
		}
		if d := o.Spec.JobTemplate.Spec.ActiveDeadlineSeconds; d == nil || *d <= 0 {
			errs = append(errs, field.Invalid(spec.Child("jobTemplate", "spec", "activeDeadlineSeconds"), d, "more than 0 seconds"))
		}
		pod(p, spec.Child("jobTemplate", "spec", "template", "spec"))
	case *KnativeService:
		max := validation.DNS1035LabelMaxLength
		if format == CloudRun {
			max = maxCloudRunService
		}
		meta(&o.ObjectMeta, apivalidation.NameIsDNS1035Label, max)
		tmpl := field.NewPath("spec", "template")
		errs = append(errs, apivalidation.ValidateAnnotations(o.Spec.Template.Annotations, tmpl.Child("metadata", "annotations"))...)
		errs = append(errs, metavalidation.ValidateLabels(o.Spec.Template.Labels, tmpl.Child("metadata", "labels"))...)
		pod(&o.Spec.Template.Spec.PodSpec, tmpl.Child("spec"))
		for i, c := range o.Spec.Template.Spec.Containers {
			path := tmpl.Child("spec", "containers").Index(i)
			// Knative sets $PORT itself, from the one port, named http1 or h2c.
			if len(c.Ports) != 1 || c.Ports[0].Name != "http1" && c.Ports[0].Name != "h2c" {
				errs = append(errs, field.Invalid(path.Child("ports"), c.Ports, "one port, named http1 or h2c"))
			}
			for j, e := range c.Env {
				if e.Name == "PORT" {
					errs = append(errs, field.Forbidden(path.Child("env").Index(j), "PORT is reserved"))
				}
			}
		}
	case *CloudRunJob:
		meta(&o.ObjectMeta, apivalidation.NameIsDNS1035Label, validation.DNS1035LabelMaxLength)
		task := field.NewPath("spec", "template", "spec", "template", "spec")
		if o.Spec.Template.Spec.Template.Spec.TimeoutSeconds <= 0 {
			errs = append(errs, field.Required(task.Child("timeoutSeconds"), ""))
		}
		for i := range o.Spec.Template.Spec.Template.Spec.Containers {
			errs = append(errs, checkContainer(&o.Spec.Template.Spec.Template.Spec.Containers[i], task.Child("containers").Index(i))...)
		}
	default:
		return fmt.Errorf("no check for %T", obj)
	}
	return errs.ToAggregate()
}

// secretManagerID is what Secret Manager takes as a secret's name.
var secretManagerID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

func checkContainer(c *corev1.Container, path *field.Path) field.ErrorList {
	errs := dnsLabel(c.Name, path.Child("name"))
	if c.Image == "" {
		errs = append(errs, field.Required(path.Child("image"), ""))
	}
	for i, e := range c.Env {
		p := path.Child("env").Index(i)
		for _, msg := range validation.IsEnvVarName(e.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), e.Name, msg))
		}
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && !secretManagerID.MatchString(e.ValueFrom.SecretKeyRef.Name) {
			errs = append(errs, field.Invalid(p.Child("valueFrom", "secretKeyRef", "name"), e.ValueFrom.SecretKeyRef.Name, "a secret's name"))
		}
	}
	for i, e := range c.EnvFrom {
		if e.SecretRef != nil {
			for _, msg := range validation.IsDNS1123Subdomain(e.SecretRef.Name) {
				errs = append(errs, field.Invalid(path.Child("envFrom").Index(i).Child("secretRef", "name"), e.SecretRef.Name, msg))
			}
		}
	}
	for i, p := range c.Ports {
		errs = append(errs, portName(p.Name, path.Child("ports").Index(i).Child("name"))...)
		errs = append(errs, portNum(int(p.ContainerPort), path.Child("ports").Index(i).Child("containerPort"))...)
	}
	for name, pr := range map[string]*corev1.Probe{"readinessProbe": c.ReadinessProbe, "startupProbe": c.StartupProbe} {
		if pr == nil {
			continue
		}
		if (pr.HTTPGet == nil) == (pr.TCPSocket == nil) {
			errs = append(errs, field.Invalid(path.Child(name), pr, "one handler: httpGet or tcpSocket"))
		}
	}
	return errs
}

func dnsLabel(s string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(s) {
		errs = append(errs, field.Invalid(path, s, msg))
	}
	return errs
}

func portName(s string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortName(s) {
		errs = append(errs, field.Invalid(path, s, msg))
	}
	return errs
}

func portNum(n int, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(n) {
		errs = append(errs, field.Invalid(path, n, msg))
	}
	return errs
}
