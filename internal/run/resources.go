package run

import (
	"context"
	"net/http"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/httpx"
	"ecode/internal/runtime"
)

// SandboxStatus is whether a project's sandbox runs and, where the driver
// can tell, the limits the kernel holds it to and what it uses.
type SandboxStatus struct {
	Running   bool               `json:"running"`
	Measured  bool               `json:"measured"`
	Resources *runtime.Resources `json:"resources"` // nil unless measured
	// GPU is how the GPU the project asks for stands; nil when it asks
	// for none.
	GPU *GPUStatus `json:"gpu,omitempty"`
}

// Sandbox tells anyone who can read the project how its sandbox stands.
func (s *Service) Sandbox(ctx context.Context, actor *auth.User, projectID string) (*SandboxStatus, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Read)
	if err != nil {
		return nil, err
	}
	return s.status(ctx, p.ID)
}

func (s *Service) status(ctx context.Context, projectID string) (*SandboxStatus, error) {
	res, err := s.projects.SandboxResources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	st := &SandboxStatus{}
	sb := s.pool.running(projectID)
	if sb != nil {
		st.Running = true
		if r, ok := sb.Resources(); ok {
			st.Measured, st.Resources = true, &r
		}
	}
	if res.GPU != "" {
		st.GPU = s.gpuStatus(ctx, projectID, sb)
	}
	return st, nil
}

// Restart ends the project's sandbox, with its run and shells, and starts
// a fresh one, which takes the project's resources as they are now.
func (s *Service) Restart(ctx context.Context, actor *auth.User, projectID string) (*SandboxStatus, error) {
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return nil, err
	}
	if err := s.Stop(ctx, actor, p.ID); err != nil {
		return nil, err
	}
	s.pool.stop(p.ID)
	_, release, err := s.sandbox(startedBy(ctx, actor), p)
	if err != nil {
		return nil, err
	}
	release()
	return s.status(ctx, p.ID)
}

func (h handlers) sandbox(w http.ResponseWriter, r *http.Request) {
	st, err := h.svc.Sandbox(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"sandbox": st}, err)
}

func (h handlers) restart(w http.ResponseWriter, r *http.Request) {
	st, err := h.svc.Restart(r.Context(), auth.Actor(r), r.PathValue("id"))
	httpx.Reply(w, r, http.StatusOK, map[string]any{"sandbox": st}, err)
}
