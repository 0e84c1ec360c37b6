package deploy

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/deploy/export"
	"ecode/internal/httpx"
	"ecode/internal/store"
)

// Export writes the project's deployment, as its ecode.toml sets it now,
// as manifests for format (kubernetes or cloudrun): a YAML file of one or
// more documents, and the name to save it as. It is for editors: it names
// the project's secrets (never their values) and its image. The image is
// the live release's; before the first release goes live, its tag is
// latest.
func (s *Service) Export(ctx context.Context, actor *auth.User, projectID, format string) (string, []byte, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return "", nil, err
	}
	f, err := export.ParseFormat(format)
	if err != nil {
		return "", nil, err
	}
	settings, err := readSettings(s.projects.Tree(p), s.floor())
	if err != nil {
		return "", nil, err
	}
	res, err := s.projects.SandboxResources(ctx, p.ID)
	if err != nil {
		return "", nil, err
	}
	env, err := s.opts.Secrets(ctx, p.ID)
	if err != nil {
		return "", nil, fmt.Errorf("read secrets: %w", err)
	}
	tag, err := s.liveTag(ctx, p.ID)
	if err != nil {
		return "", nil, err
	}
	sc := scalingOf(runSpec{Target: settings.Target, MinInstances: settings.MinInstances,
		MaxInstances: settings.MaxInstances, Concurrency: settings.Concurrency})
	app := export.App{Owner: p.Owner, Slug: p.Slug, Target: settings.Target, Run: settings.Run,
		Image: export.Image(s.opts.ImageRegistry, p.Owner, p.Slug, tag), Port: appPort,
		MinScale: sc.min, MaxScale: sc.max, Concurrency: sc.target, HealthPath: settings.HealthPath,
		Env: names(env), MemoryBytes: res.MemoryBytes, CPUs: res.CPUs}
	if settings.Target == Scheduled {
		sched, err := parseSchedule(settings.Schedule, settings.TimeZone, s.floor())
		if err != nil {
			return "", nil, err
		}
		app.Cron, app.TimeZone = sched.Cron, sched.Loc.String()
		app.TimeoutSeconds = int(runSpec{Timeout: settings.Timeout}.timeout().Seconds())
	}
	out, err := export.Render(app, f)
	if err != nil {
		return "", nil, err
	}
	return p.Slug + "-" + string(f) + ".yaml", out, nil
}

// liveTag is the image tag of the project's live release: its number, or
// latest while none is live.
func (s *Service) liveTag(ctx context.Context, projectID string) (string, error) {
	d, err := getDeployment(ctx, s.db, projectID)
	if store.NoRows(err) || err == nil && d.Live == nil {
		return "latest", nil
	}
	if err != nil {
		return "", fmt.Errorf("read deployment: %w", err)
	}
	r, err := getRelease(ctx, s.db, projectID, *d.Live)
	if err != nil {
		return "", fmt.Errorf("read live release: %w", err)
	}
	return strconv.Itoa(r.Number), nil
}

// releaseImage is where a driver that makes release images pushes
// release releaseID's: the image its exports name. Empty when there is
// no registry, or the project is gone.
func (s *Service) releaseImage(ctx context.Context, projectID, releaseID string) string {
	if s.opts.ImageRegistry == "" {
		return ""
	}
	var row struct {
		Owner  string `db:"owner"`
		Slug   string `db:"slug"`
		Number int    `db:"number"`
	}
	err := s.db.Get(ctx, &row, `SELECT u.username AS owner, p.slug, r.number FROM releases r JOIN projects p ON p.id = r.project_id
		JOIN users u ON u.id = p.owner_id WHERE r.project_id = ? AND r.id = ?`, projectID, releaseID)
	if err != nil {
		s.log.Warn("name a release's image", "project_id", projectID, "release_id", releaseID, "err", err)
		return ""
	}
	return export.Image(s.opts.ImageRegistry, row.Owner, row.Slug, strconv.Itoa(row.Number))
}

// names are the variables' names of env (NAME=value), sorted; the values
// are dropped here.
func names(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// export answers the manifests as a file to download.
func (h handlers) export(w http.ResponseWriter, r *http.Request) {
	name, doc, err := h.svc.Export(r.Context(), auth.Actor(r), r.PathValue("id"), r.URL.Query().Get("format"))
	if err != nil {
		httpx.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(doc)
}
