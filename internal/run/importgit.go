package run

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"

	"ecode/internal/errs"
	"ecode/internal/project"
	"ecode/internal/runtime"
	"ecode/internal/runtime/egress"
)

const cloneTimeout = 5 * time.Minute

// Importer turns a git URL into the input that creates a project from it.
// https:// and http:// repositories are cloned inside the new project's
// own sandbox, so the clone goes through the egress proxy: it reaches any
// public host, and never the platform's host or a private network.
// file:// paths are cloned on the host, only below the roots the operator
// allows.
func (s *Service) Importer(gitURL string, in project.CreateInput) (project.CreateInput, error) {
	gitURL = strings.TrimSpace(gitURL)
	if strings.Contains(gitURL, "@") && strings.Contains(gitURL, ":") && !strings.Contains(gitURL, "://") {
		return in, errs.Invalid("unsupported_git_url", "Importing over ssh (user@host:path) is not supported yet; use the repository's https:// URL.")
	}
	u, err := url.Parse(gitURL)
	if err != nil || len(gitURL) > 2048 {
		return in, errs.Invalid("invalid_git_url", "That is not a URL; use one like https://github.com/owner/repo.git.")
	}
	if in.Name == "" {
		in.Name = strings.TrimSuffix(path.Base(strings.TrimSuffix(u.Path, "/")), ".git")
	}
	in.Template = "git"
	switch u.Scheme {
	case "https", "http":
		if u.Host == "" {
			return in, errs.Invalid("invalid_git_url", "The URL names no host.")
		}
		clean := u.String()
		in.Fill = func(ctx context.Context, p *project.Project, _ string) error {
			if err := checkPublicHost(ctx, u.Hostname()); err != nil {
				return err
			}
			return s.cloneInSandbox(ctx, p, clean)
		}
	case "file":
		dir, err := s.allowedLocal(u.Path)
		if err != nil {
			return in, err
		}
		in.Fill = func(ctx context.Context, _ *project.Project, dst string) error { return cloneLocal(ctx, dir, dst) }
	case "ssh":
		return in, errs.Invalid("unsupported_git_url", "Importing over ssh is not supported yet; use the repository's https:// URL.")
	default:
		return in, errs.Invalid("invalid_git_url", "Use an https:// git URL, like https://github.com/owner/repo.git.")
	}
	return in, nil
}

// checkPublicHost answers early, and in plain words, what the egress proxy
// would refuse anyway (it checks again on the address it dials).
func checkPublicHost(ctx context.Context, host string) error {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return errs.Invalid("repo_unreachable", "The git host %s could not be found.", host)
	}
	for _, a := range addrs {
		if !egress.PublicAddr(a) {
			return errs.Invalid("address_refused", "E-Code may not reach %s: it is not a public address.", host)
		}
	}
	return nil
}

// allowedLocal resolves a file:// path and checks it is below an allowed root.
func (s *Service) allowedLocal(p string) (string, error) {
	refused := errs.Invalid("address_refused", "Importing from %s is not allowed on this server.", p)
	real, err := filepath.EvalSymlinks(filepath.Clean(p))
	if err != nil {
		return "", errs.Invalid("repo_not_found", "There is no repository at %s.", p)
	}
	for _, root := range s.opts.GitImportRoots {
		if r, err := filepath.EvalSymlinks(root); err == nil && (real == r || strings.HasPrefix(real, r+string(filepath.Separator))) {
			return real, nil
		}
	}
	return "", refused
}

func cloneLocal(ctx context.Context, src, dst string) error {
	ctx, cancel := context.WithTimeout(ctx, cloneTimeout)
	defer cancel()
	if _, err := git.PlainCloneContext(ctx, dst, false, &git.CloneOptions{URL: src}); err != nil {
		return errs.Invalid("repo_not_found", "Could not clone %s: %v.", src, err)
	}
	return nil
}

// cloneInSandbox clones into the project from inside its sandbox, which is
// let out to any public host for the clone only.
func (s *Service) cloneInSandbox(ctx context.Context, p *project.Project, gitURL string) error {
	sb, release, err := s.sandbox(ctx, p)
	if err != nil {
		return err
	}
	defer release()
	if s.opts.Egress != nil {
		s.opts.Egress.SetPolicy(p.ID, egress.Policy{Allow: egress.DefaultAllow, AnyPublic: true})
		defer s.ApplyPolicy(p)
	}
	ctx, cancel := context.WithTimeout(ctx, cloneTimeout)
	defer cancel()
	proc, err := sb.Exec(ctx, runtime.Command{
		Argv: []string{"git", "clone", "--quiet", "--", gitURL, "."},
		// Every address goes through the proxy, which refuses inward ones
		// with a clear answer (NO_PROXY would send loopback direct).
		Env: []string{"GIT_TERMINAL_PROMPT=0", "NO_PROXY=", "no_proxy="},
	})
	if err != nil {
		return fmt.Errorf("start git: %w", err)
	}
	var out bytes.Buffer
	e, err := proc.Wait(ctx, &out, &out)
	if err == nil && e.Code == 0 {
		return nil
	}
	s.pool.stop(p.ID) // the project will not exist: its sandbox goes too
	if ctx.Err() != nil {
		return errs.Invalid("clone_timeout", "Cloning took longer than %s and was stopped.", cloneTimeout)
	}
	return cloneError(gitURL, out.String())
}

// cloneError says in plain words why git could not clone.
func cloneError(gitURL, output string) error {
	low := strings.ToLower(output)
	switch {
	case strings.Contains(low, "403") && strings.Contains(low, "proxy"), strings.Contains(low, "connect tunnel failed, response 403"):
		return errs.Invalid("address_refused", "E-Code may not reach that host: it is not a public address.")
	case strings.Contains(low, "not found"), strings.Contains(low, "could not read username"), strings.Contains(low, " 404"):
		return errs.Invalid("repo_not_found", "There is no repository at %s, or it is private.", gitURL)
	case strings.Contains(low, "response 502"), strings.Contains(low, "could not resolve"), strings.Contains(low, "timed out"):
		return errs.Invalid("repo_unreachable", "The git host of %s did not answer.", gitURL)
	}
	last := strings.TrimSpace(output)
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	return errs.Invalid("clone_failed", "git could not clone %s: %s", gitURL, last)
}
