package project

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"

	"ecode/internal/access"
	"ecode/internal/audit"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/events"
	"ecode/internal/gpu"
	"ecode/internal/httpx"
	"ecode/internal/store"
)

// Resources are what a project's sandbox may use: memory, CPU time,
// processes (and threads), and disk for the project's files.
type Resources struct {
	MemoryBytes int64   `json:"memoryBytes"`
	CPUs        float64 `json:"cpus"`
	Pids        int     `json:"pids"`
	DiskBytes   int64   `json:"diskBytes"`
	// GPU is what the sandbox asks for: "" none, else a gpu.ParseWant key.
	GPU string `json:"gpu"`
}

// ResourcePolicy is the administrator's: what each project gets unless its
// owner says otherwise, and the most an owner may give it.
type ResourcePolicy struct{ Default, Max Resources }

// Below these a sandbox cannot do useful work (the agent, a shell, npm).
const (
	minMemory = 64 << 20
	minCPUs   = 0.1
	minPids   = 32
	minDisk   = 16 << 20
)

// ResourceChoice is what a project's owner set; nil takes the default.
type ResourceChoice struct {
	MemoryBytes *int64   `json:"memoryBytes"`
	CPUs        *float64 `json:"cpus"`
	Pids        *int     `json:"pids"`
	DiskBytes   *int64   `json:"diskBytes"`
	GPU         *string  `json:"gpu"` // "" or nil: none
}

// ResourceSettings is a project's resources as its Settings show them.
type ResourceSettings struct {
	Effective Resources      `json:"effective"` // what the next sandbox gets
	Custom    ResourceChoice `json:"custom"`    // the project's own choices
	Default   Resources      `json:"default"`
	Max       Resources      `json:"max"`
	Min       Resources      `json:"min"`
	DiskUsed  int64          `json:"diskUsed"`
	CanEdit   bool           `json:"canEdit"`
	// GPU is what the project may ask for here, or why nothing.
	GPU gpu.Offer `json:"gpu"`
}

// resourceState is the policy and, in memory because every file write
// asks it, each project's own disk limit.
type resourceState struct {
	policy ResourcePolicy
	mu     sync.Mutex
	disk   map[string]int64
	gpus   gpuPolicy
}

// gpuPolicy is the server's GPUs and who may ask for one (the payer's
// plan); without UseGPUs no project may.
type gpuPolicy struct {
	pool  *gpu.Pool
	allow func(ctx context.Context, projectID string) error
	off   string // why there are none, when pool is nil
}

// UseGPUs offers pool's GPUs to the projects allow lets ask for one; a nil
// pool offers none, for the reason off.
func (s *Service) UseGPUs(pool *gpu.Pool, off string, allow func(ctx context.Context, projectID string) error) {
	s.resources.mu.Lock()
	s.resources.gpus = gpuPolicy{pool: pool, allow: allow, off: off}
	s.resources.mu.Unlock()
}

func (s *Service) gpuPolicy() gpuPolicy {
	s.resources.mu.Lock()
	defer s.resources.mu.Unlock()
	return s.resources.gpus
}

// offer is what project id may ask for: the pool's kinds, unless its plan
// allows none.
func (g gpuPolicy) offer(ctx context.Context, id string) gpu.Offer {
	if g.pool == nil {
		why := g.off
		if why == "" {
			why = "none was found."
		}
		return gpu.NoGPU(why)
	}
	o := g.pool.Offer()
	if len(o.Kinds) > 0 && g.allow != nil {
		if err := g.allow(ctx, id); err != nil {
			o.Kinds, o.Reason = []gpu.Kind{}, "GPUs cannot be offered to this project right now."
			if e, ok := errs.As(err); ok {
				o.Reason = e.Message
			} else {
				slog.WarnContext(ctx, "GPU offer", "project_id", id, "err", err)
			}
		}
	}
	return o
}

// GPUOffer is what project id may ask of the GPUs (its deployments too).
func (s *Service) GPUOffer(ctx context.Context, id string) gpu.Offer {
	return s.gpuPolicy().offer(ctx, id)
}

// CheckGPU refuses a GPU want ("" is none) that project id may not have.
func (s *Service) CheckGPU(ctx context.Context, id, want string) error {
	return s.gpuPolicy().check(ctx, id, want)
}

// check refuses a GPU want the server or the project's plan cannot serve.
func (g gpuPolicy) check(ctx context.Context, id, want string) error {
	w, ok, err := gpu.ParseWant(want)
	if err != nil || !ok {
		return err
	}
	if g.pool == nil {
		return errs.Invalid("gpu_unavailable", "%s", g.offer(ctx, id).Reason)
	}
	if err := g.pool.Possible(w); err != nil {
		return err
	}
	if g.allow != nil {
		return g.allow(ctx, id)
	}
	return nil
}

// SetResourcePolicy sets the administrator's policy and reads the disk
// limits projects have of their own. The policy's default disk is the
// project size limit the service was made with.
func (s *Service) SetResourcePolicy(ctx context.Context, p ResourcePolicy) error {
	p.Default.DiskBytes = s.limits.MaxProject
	var rows []struct {
		ID   string `db:"project_id"`
		Disk int64  `db:"disk_bytes"`
	}
	if err := s.db.Select(ctx, &rows, `SELECT project_id, disk_bytes FROM project_resources WHERE disk_bytes IS NOT NULL`); err != nil {
		return fmt.Errorf("read project disk limits: %w", err)
	}
	disk := make(map[string]int64, len(rows))
	for _, r := range rows {
		disk[r.ID] = r.Disk
	}
	s.resources.mu.Lock()
	s.resources.policy, s.resources.disk = p, disk
	s.resources.mu.Unlock()
	events.Subscribe(s.bus, func(_ context.Context, e Deleted) {
		s.resources.mu.Lock()
		delete(s.resources.disk, e.ProjectID)
		s.resources.mu.Unlock()
	})
	return nil
}

// treeLimits are the file limits of project id: its own disk limit, if it
// has one, in place of the platform's.
func (s *Service) treeLimits(id string) Limits {
	l := s.limits
	s.resources.mu.Lock()
	if d, ok := s.resources.disk[id]; ok {
		l.MaxProject = d
	}
	s.resources.mu.Unlock()
	return l
}

type resourceRow struct {
	Memory sql.NullInt64  `db:"memory_bytes"`
	CPU    sql.NullInt64  `db:"cpu_millis"`
	Pids   sql.NullInt64  `db:"pids"`
	Disk   sql.NullInt64  `db:"disk_bytes"`
	GPU    sql.NullString `db:"gpu"`
}

func (s *Service) readChoice(ctx context.Context, projectID string) (ResourceChoice, error) {
	var r resourceRow
	err := s.db.Get(ctx, &r, `SELECT memory_bytes, cpu_millis, pids, disk_bytes, gpu FROM project_resources WHERE project_id = ?`, projectID)
	if errors.Is(err, sql.ErrNoRows) {
		return ResourceChoice{}, nil
	}
	if err != nil {
		return ResourceChoice{}, fmt.Errorf("read project resources: %w", err)
	}
	var c ResourceChoice
	if r.Memory.Valid {
		c.MemoryBytes = &r.Memory.Int64
	}
	if r.CPU.Valid {
		cpus := float64(r.CPU.Int64) / 1000
		c.CPUs = &cpus
	}
	if r.Pids.Valid {
		n := int(r.Pids.Int64)
		c.Pids = &n
	}
	if r.Disk.Valid {
		c.DiskBytes = &r.Disk.Int64
	}
	if r.GPU.Valid {
		c.GPU = &r.GPU.String
	}
	return c, nil
}

func (s *Service) writeChoice(ctx context.Context, projectID string, c ResourceChoice) error {
	if c.GPU != nil && *c.GPU == "" {
		c.GPU = nil
	}
	if c == (ResourceChoice{}) {
		_, err := s.db.Exec(ctx, `DELETE FROM project_resources WHERE project_id = ?`, projectID)
		return err
	}
	var cpu *int64
	if c.CPUs != nil {
		m := int64(math.Round(*c.CPUs * 1000))
		cpu = &m
	}
	_, err := s.db.Exec(ctx, `INSERT INTO project_resources (project_id, memory_bytes, cpu_millis, pids, disk_bytes, gpu, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (project_id) DO UPDATE SET memory_bytes = excluded.memory_bytes, cpu_millis = excluded.cpu_millis,
			pids = excluded.pids, disk_bytes = excluded.disk_bytes, gpu = excluded.gpu, updated_at = excluded.updated_at`,
		projectID, c.MemoryBytes, cpu, c.Pids, c.DiskBytes, c.GPU, store.Now())
	return err
}

// effective fills c's unset choices from the policy's defaults.
func (p ResourcePolicy) effective(c ResourceChoice) Resources {
	r := p.Default
	if c.MemoryBytes != nil {
		r.MemoryBytes = *c.MemoryBytes
	}
	if c.CPUs != nil {
		r.CPUs = *c.CPUs
	}
	if c.Pids != nil {
		r.Pids = *c.Pids
	}
	if c.DiskBytes != nil {
		r.DiskBytes = *c.DiskBytes
	}
	if c.GPU != nil {
		r.GPU = *c.GPU
	}
	return r
}

// check refuses a choice outside the policy, naming the first value that is.
func (p ResourcePolicy) check(c ResourceChoice) error {
	bytes := func(v float64) string { return human(int64(v)) }
	cores := func(v float64) string { return fmt.Sprintf("%g CPU cores", v) }
	count := func(v float64) string { return fmt.Sprintf("%g processes", v) }
	for _, b := range []struct {
		name   string
		value  *float64
		lo, hi float64
		format func(float64) string
	}{
		{"Memory", asFloat(c.MemoryBytes), minMemory, float64(p.Max.MemoryBytes), bytes},
		{"CPU", c.CPUs, minCPUs, p.Max.CPUs, cores},
		{"Processes", asFloat(c.Pids), minPids, float64(p.Max.Pids), count},
		{"Disk", asFloat(c.DiskBytes), minDisk, float64(p.Max.DiskBytes), bytes},
	} {
		switch {
		case b.value == nil:
		case math.IsNaN(*b.value) || *b.value > b.hi:
			return errs.Invalid("resources_over_limit", "%s can be at most %s on this server; an administrator sets that ceiling.", b.name, b.format(b.hi))
		case *b.value < b.lo:
			return errs.Invalid("resources_under_minimum", "%s must be at least %s for a sandbox to work.", b.name, b.format(b.lo))
		}
	}
	return nil
}

func asFloat[T int | int64](v *T) *float64 {
	if v == nil {
		return nil
	}
	f := float64(*v)
	return &f
}

func (s *Service) policy() ResourcePolicy {
	s.resources.mu.Lock()
	defer s.resources.mu.Unlock()
	return s.resources.policy
}

// SandboxResources are what project id's next sandbox gets. The caller has
// already been allowed to start it.
func (s *Service) SandboxResources(ctx context.Context, id string) (Resources, error) {
	c, err := s.readChoice(ctx, id)
	if err != nil {
		return Resources{}, err
	}
	return s.policy().effective(c), nil
}

// ResourceSettings shows project id's resources to anyone who can read it.
func (s *Service) ResourceSettings(ctx context.Context, actor *auth.User, id string) (*ResourceSettings, error) {
	p, err := s.Get(ctx, actor, id, access.Read)
	if err != nil {
		return nil, err
	}
	c, err := s.readChoice(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return s.settings(ctx, p, actor, c)
}

func (s *Service) settings(ctx context.Context, p *Project, actor *auth.User, c ResourceChoice) (*ResourceSettings, error) {
	pol := s.policy()
	used, _, err := s.Tree(p).Usage()
	if err != nil {
		return nil, fmt.Errorf("measure project: %w", err)
	}
	return &ResourceSettings{
		Effective: pol.effective(c), Custom: c, Default: pol.Default, Max: pol.Max,
		Min:      Resources{MemoryBytes: minMemory, CPUs: minCPUs, Pids: minPids, DiskBytes: minDisk},
		DiskUsed: used, CanEdit: access.Can(actor, access.Admin, p.Access()) == nil,
		GPU: s.GPUOffer(ctx, p.ID),
	}, nil
}

// SetResources sets project id's own resources within the policy: its
// owner's, or an admin's of its team. Memory, CPU and processes apply when
// the sandbox next starts; the disk limit at once, and never below what
// the files already use.
func (s *Service) SetResources(ctx context.Context, actor *auth.User, id string, c ResourceChoice) (*ResourceSettings, error) {
	p, err := s.Get(ctx, actor, id, access.Admin)
	if err != nil {
		return nil, err
	}
	pol := s.policy()
	if err := pol.check(c); err != nil {
		return nil, err
	}
	if c.GPU != nil {
		if err := s.CheckGPU(ctx, p.ID, *c.GPU); err != nil {
			return nil, err
		}
	}
	if c.DiskBytes != nil {
		used, _, err := s.Tree(p).Usage()
		if err != nil {
			return nil, fmt.Errorf("measure project: %w", err)
		}
		if used > *c.DiskBytes {
			return nil, errs.Conflict("resources_below_usage", "The project's files already use %s; delete files first, or choose at least that much disk.", human(used))
		}
	}
	if err := s.writeChoice(ctx, p.ID, c); err != nil {
		return nil, fmt.Errorf("save project resources: %w", err)
	}
	s.resources.mu.Lock()
	if c.DiskBytes != nil {
		if s.resources.disk == nil {
			s.resources.disk = map[string]int64{}
		}
		s.resources.disk[p.ID] = *c.DiskBytes
	} else {
		delete(s.resources.disk, p.ID)
	}
	s.resources.mu.Unlock()
	e := pol.effective(c)
	s.audit.RecordIn(ctx, p.TeamID(), actor.AuditActor(), "project.resources", audit.Target("project", p.ID),
		map[string]any{"memoryBytes": e.MemoryBytes, "cpus": e.CPUs, "pids": e.Pids, "diskBytes": e.DiskBytes, "gpu": e.GPU})
	return s.settings(ctx, p, actor, c)
}

func (h handlers) resourceRoutes(rt *httpx.Router) {
	rt.HandleFunc("GET /api/projects/{id}/resources", h.resources)
	rt.HandleFunc("PUT /api/projects/{id}/resources", h.setResources)
}

func (h handlers) resources(w http.ResponseWriter, r *http.Request) {
	res, err := h.svc.ResourceSettings(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"resources": res}, err)
}

func (h handlers) setResources(w http.ResponseWriter, r *http.Request) {
	var in ResourceChoice
	if err := httpx.Decode(w, r, &in); err != nil {
		httpx.Error(w, r, err)
		return
	}
	res, err := h.svc.SetResources(r.Context(), auth.Actor(r), r.PathValue("id"), in)
	httpx.Reply(w, r, http.StatusOK, map[string]any{"resources": res}, err)
}
