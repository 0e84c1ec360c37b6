package run

import (
	"context"
	"log/slog"
	"strings"
)

// minMasked is the shortest secret value masked in output: shorter ones
// would blank out ordinary text wherever it happens to match.
const minMasked = 4

const mask = "********"

// secretEnv is the project's secrets as NAME=value for a command.
func (s *Service) secretEnv(ctx context.Context, projectID string) []string {
	if s.opts.Secrets == nil {
		return nil
	}
	env, err := s.opts.Secrets(ctx, projectID)
	if err != nil {
		slog.ErrorContext(ctx, "project secrets", "project_id", projectID, "err", err)
		return nil
	}
	return env
}

// Mask hides the project's secret values in output bound for a person: a
// run's console, a shell, a command's result, the agent's transcript.
func (s *Service) Mask(projectID string, p []byte) []byte {
	r := s.masker(projectID)
	if r == nil {
		return p
	}
	return []byte(r.Replace(string(p)))
}

func (s *Service) masker(projectID string) *strings.Replacer {
	s.mu.Lock()
	r, ok := s.maskers[projectID]
	s.mu.Unlock()
	if ok {
		return r
	}
	var pairs []string
	for _, kv := range s.secretEnv(context.Background(), projectID) {
		if _, v, _ := strings.Cut(kv, "="); len(v) >= minMasked {
			pairs = append(pairs, v, mask)
		}
	}
	if len(pairs) > 0 {
		r = strings.NewReplacer(pairs...)
	}
	s.mu.Lock()
	s.maskers[projectID] = r
	s.mu.Unlock()
	return r
}

// SecretsChanged forgets what it masked for the project; the next output
// is masked with the secrets as they are now.
func (s *Service) SecretsChanged(projectID string) {
	s.mu.Lock()
	delete(s.maskers, projectID)
	s.mu.Unlock()
}

func (s *Service) maskString(projectID, out string) string {
	if r := s.masker(projectID); r != nil {
		return r.Replace(out)
	}
	return out
}
