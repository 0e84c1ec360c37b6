package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/project"
	"ecode/internal/runtime"
	"ecode/internal/runtime/egress"
)

const cloneTimeout = 5 * time.Minute

// Importer turns a git URL into the input that creates a project from it.
// https:// and ssh:// repositories are cloned inside the new project's own
// sandbox, so the clone goes through the egress proxy: it reaches any
// public host, and never the platform's host or a private network. ssh://
// clones use the SSH key of the person importing (see package sshkey). file:// paths
// are cloned on the host, only below the roots the operator allows.
func (s *Service) Importer(gitURL string, in project.CreateInput) (project.CreateInput, error) {
	gitURL = strings.TrimSpace(gitURL)
	if len(gitURL) > 2048 || strings.HasPrefix(gitURL, "-") {
		return in, errs.Invalid("invalid_git_url", "That is not a git URL; use one like https://github.com/owner/repo.git.")
	}
	u, err := parseGitURL(gitURL)
	if err != nil {
		return in, err
	}
	if in.Name == "" {
		in.Name = strings.TrimSuffix(path.Base(strings.TrimSuffix(u.Path, "/")), ".git")
	}
	in.Template = "git"
	switch u.Scheme {
	case "https", "http", "ssh":
		if u.Hostname() == "" {
			return in, errs.Invalid("invalid_git_url", "The URL names no host.")
		}
		in.Fill = func(ctx context.Context, actor *auth.User, p *project.Project, _ string) error {
			clone := cloneJob{url: u.String()}
			if u.Scheme == "ssh" {
				clone.url = gitURL // git reads its scp-like form itself
				if clone.key, err = s.sshKey(ctx, actor.ID); err != nil {
					return err
				}
			}
			if err := s.checkHost(ctx, u.Hostname()); err != nil {
				return err
			}
			return s.cloneInSandbox(ctx, p, clone)
		}
	case "file":
		dir, err := s.allowedLocal(u.Path)
		if err != nil {
			return in, err
		}
		in.Fill = func(ctx context.Context, _ *auth.User, _ *project.Project, dst string) error {
			return cloneLocal(ctx, dir, dst)
		}
	default:
		return in, errs.Invalid("invalid_git_url", "Use an https:// or ssh:// git URL, like https://github.com/owner/repo.git.")
	}
	return in, nil
}

// scpLike matches git's short ssh form, [user@]host:path.
var scpLike = regexp.MustCompile(`^(?:([A-Za-z0-9._-]+)@)?([A-Za-z0-9.-]+):([^/].*)$`)

// parseGitURL reads a URL, or git's scp-like ssh form as an ssh:// URL.
func parseGitURL(gitURL string) (*url.URL, error) {
	if !strings.Contains(gitURL, "://") {
		if m := scpLike.FindStringSubmatch(gitURL); m != nil {
			u := &url.URL{Scheme: "ssh", Host: m[2], Path: "/" + m[3]}
			if m[1] != "" {
				u.User = url.User(m[1])
			}
			return u, nil
		}
	}
	u, err := url.Parse(gitURL)
	if err != nil || u.Scheme == "" {
		return nil, errs.Invalid("invalid_git_url", "That is not a git URL; use one like https://github.com/owner/repo.git.")
	}
	return u, nil
}

func (s *Service) sshKey(ctx context.Context, ownerID string) ([]byte, error) {
	if s.opts.SSHKey == nil {
		return nil, errs.Invalid("unsupported_git_url", "Importing over ssh is not available on this server; use the repository's https:// URL.")
	}
	key, err := s.opts.SSHKey(ctx, ownerID)
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.KindNotFound {
		return nil, errs.Invalid(e.Code, "%s", e.Message) // a missing key is bad input to the import
	}
	return key, err
}

// checkHost answers early, and in plain words, what the egress proxy
// would refuse anyway (it checks again on the address it dials).
func (s *Service) checkHost(ctx context.Context, host string) error {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return errs.Invalid("repo_unreachable", "The git host %s could not be found.", host)
	}
	for _, a := range addrs {
		if !s.opts.Reachable(a) {
			return errs.Invalid("address_refused", "E-Code may not reach %s: it is not a public address, or it is this server's own.", host)
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

// cloneJob is what one clone needs: the URL, and for ssh the PEM of the
// owner's private key.
type cloneJob struct {
	url string
	key []byte
}

// knownHosts pins the host keys that GitHub and GitLab publish; other hosts
// are trusted on first use, as each clone starts with no memory of them.
const knownHosts = `github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
gitlab.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAfuCHKVTjquxvt6CM6tdG4SLp1Btn/nOeHHE5UOzRdf
`

// cloneScript clones $1 into the project. For ssh it puts the key in a
// private folder of the sandbox's /tmp for the clone only, and reaches the
// host through the egress proxy (`ecode connect` as ProxyCommand).
const cloneScript = `set -e
if [ -n "$ECODE_SSH_KEY" ]; then
	umask 077
	d=$(mktemp -d)
	trap 'rm -rf "$d"' EXIT
	printf '%s\n' "$ECODE_SSH_KEY" > "$d/id"
	printf '%s' "$ECODE_KNOWN_HOSTS" > "$d/known_hosts"
	unset ECODE_SSH_KEY
	export GIT_SSH_COMMAND="ssh -F /dev/null -i $d/id -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=20 -o UserKnownHostsFile=$d/known_hosts -o StrictHostKeyChecking=accept-new -o ProxyCommand='` + runtime.AgentBinary + ` connect %h %p'"
	umask 022
fi
git clone --quiet -- "$1" .`

// cloneInSandbox clones into the project from inside its sandbox, which is
// let out to any public host for the clone only.
func (s *Service) cloneInSandbox(ctx context.Context, p *project.Project, job cloneJob) error {
	sb, release, err := s.sandbox(ctx, p)
	if err != nil {
		return err
	}
	defer release()
	if s.opts.Egress != nil {
		s.opts.Egress.SetPolicy(p.ID, egress.Policy{Allow: egress.DefaultAllow, AnyPublic: true})
		defer s.applyPolicy(p)
	}
	ctx, cancel := context.WithTimeout(ctx, cloneTimeout)
	defer cancel()
	// Every address goes through the proxy, which refuses inward ones with
	// a clear answer (NO_PROXY would send loopback direct).
	env := []string{"GIT_TERMINAL_PROMPT=0", "NO_PROXY=", "no_proxy="}
	if job.key != nil {
		env = append(env, "ECODE_SSH_KEY="+strings.TrimSpace(string(job.key)), "ECODE_KNOWN_HOSTS="+knownHosts)
	}
	proc, err := sb.Exec(ctx, runtime.Command{Argv: []string{"sh", "-c", cloneScript, "clone", job.url}, Env: env})
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
	return cloneError(job.url, out.String())
}

// cloneError says in plain words why git could not clone.
func cloneError(gitURL, output string) error {
	low := strings.ToLower(output)
	switch {
	case strings.Contains(low, "403") && strings.Contains(low, "proxy"), strings.Contains(low, "connect tunnel failed, response 403"):
		return errs.Invalid("address_refused", "E-Code may not reach that host: it is not a public address.")
	case strings.Contains(low, "permission denied (publickey"):
		return errs.Invalid("ssh_key_refused", "The git host refused your E-Code SSH key: add the key from Settings to your account there, then import again.")
	case strings.Contains(low, "host key verification failed"), strings.Contains(low, "remote host identification has changed"):
		return errs.Invalid("host_key_mismatch", "The git host's SSH key is not the one it publishes; E-Code did not trust it.")
	case strings.Contains(low, "not found"), strings.Contains(low, "could not read username"), strings.Contains(low, " 404"),
		strings.Contains(low, "does not appear to be a git repository"):
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
