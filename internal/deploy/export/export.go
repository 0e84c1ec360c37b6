// Package export writes a project's deployment as manifests for other
// platforms, so that an app built here can run elsewhere: Kubernetes (a
// Deployment and a Service for a reserved VM, a Knative Service for
// autoscale, a CronJob for a scheduled job) and Google Cloud Run (a
// service, or a job that Cloud Scheduler starts).
//
// It guarantees: every document is built from the Kubernetes API types,
// marshalled to YAML, and decoded back strictly into the same types, equal
// to what was built, before it is handed out; names, labels, annotations,
// ports and environment names pass the checks the Kubernetes API server
// makes of them. Secret values never appear: a manifest names the
// secret that holds them, and the person who applies it creates it.
package export

import (
	"bytes"
	"fmt"
	"strconv"

	"ecode/internal/errs"
)

// Format is a target platform.
type Format string

// Formats.
const (
	Kubernetes Format = "kubernetes"
	CloudRun   Format = "cloudrun"
)

// ParseFormat reads a format's name; empty is Kubernetes.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case "", Kubernetes:
		return Kubernetes, nil
	case CloudRun:
		return CloudRun, nil
	}
	return "", errs.Invalid("invalid_format", "%q is not an export format; use kubernetes or cloudrun", s)
}

// Deployment types, as in ecode.toml's [deployment] target.
const (
	Static    = "static"
	Autoscale = "autoscale"
	VM        = "vm"
	Scheduled = "scheduled"
)

// App is what is exported: a project's deployment with its defaults
// already applied, as the platform itself would run it.
type App struct {
	Owner  string // the project's owner's name
	Slug   string // the project's URL name: the objects are named after it
	Target string // autoscale, vm, scheduled (static has nothing to export)
	Run    string // the shell command that starts the app or runs the job
	Image  string // the release's image reference (Image)
	Port   int    // what the app listens on ($PORT); apps only

	// Apps: a vm runs MaxScale instances; autoscale MinScale..MaxScale,
	// Concurrency requests each.
	MinScale, MaxScale, Concurrency int
	HealthPath                      string // empty: a TCP check of Port

	// Scheduled: the cron expression and its IANA time zone, and how long
	// a run may take.
	Cron           string
	TimeZone       string
	TimeoutSeconds int

	// Env is the names of the variables the app gets from its secrets.
	Env []string
	// What one instance may use.
	MemoryBytes int64
	CPUs        float64
}

// Image is the reference of a release's image:
// {registry}/ecode/{owner}-{slug}:{tag}.
func Image(registry, owner, slug, tag string) string {
	return registry + "/ecode/" + owner + "-" + slug + ":" + tag
}

// Document is one object of an export, with the comment written above it.
type Document struct {
	Comment string // lines without their "# "
	Object  any    // a pointer to an API object
}

// requestTimeout is what Knative and Cloud Run give a request by default;
// the [deployment] timeout bounds builds, not requests.
const requestTimeout = 300

// Documents builds app's objects for format.
func Documents(app App, format Format) ([]Document, error) {
	if app.Target == Static {
		return nil, errs.Invalid("not_exportable", "A static site is served by the platform itself, from its release's files: "+
			"there is no app to run elsewhere. Export an autoscale, vm or scheduled deployment as a container.")
	}
	if app.Target != Autoscale && app.Target != VM && app.Target != Scheduled {
		return nil, errs.Invalid("not_exportable", "%q is not a deployment type that can be exported.", app.Target)
	}
	if app.Target == Scheduled {
		cron, err := fiveFields(app.Cron)
		if err != nil {
			return nil, err
		}
		app.Cron = cron
	}
	switch format {
	case Kubernetes:
		return kubernetes(app), nil
	case CloudRun:
		return cloudRun(app), nil
	}
	return nil, fmt.Errorf("export format %q", format)
}

// Render writes app's objects for format as one multi-document YAML file,
// each checked as the package guarantees.
func Render(app App, format Format) ([]byte, error) {
	docs, err := Documents(app, format)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for i, d := range docs {
		if err := check(d.Object, format); err != nil {
			return nil, fmt.Errorf("export %s: %w", kindOf(d.Object), err)
		}
		raw, err := roundTrip(d.Object)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", kindOf(d.Object), err)
		}
		if i > 0 {
			out.WriteString("---\n")
		}
		for _, line := range bytes.Split([]byte(d.Comment), []byte("\n")) {
			out.WriteString("# ")
			out.Write(line)
			out.WriteString("\n")
		}
		out.Write(raw)
	}
	return out.Bytes(), nil
}

// descriptors are the cron shorthands a schedule may be written as, in
// the five fields Cloud Scheduler (which knows no shorthand) reads.
var descriptors = map[string]string{"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
	"@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}

// fiveFields is cron as five fields, or an error for a schedule that has
// no such form (an @every interval).
func fiveFields(cron string) (string, error) {
	if f, ok := descriptors[cron]; ok {
		return f, nil
	}
	if len(cron) > 0 && cron[0] == '@' {
		return "", errs.Invalid("not_exportable", "The schedule %q has no cron form that Kubernetes and Cloud Scheduler read; "+
			"write it as five cron fields (minute hour day month weekday).", cron)
	}
	return cron, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
