package run_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"

	"ecode/internal/testserver"
)

// gitSSHServer serves git-upload-pack for the bare repositories below root
// to the public keys it is told to trust, as a git host does.
type gitSSHServer struct {
	root string
	addr string
	mu   sync.Mutex
	keys map[string]bool // authorized keys, marshalled
}

func newGitSSHServer(t *testing.T, root string) *gitSSHServer {
	t.Helper()
	_, hostKey, _ := ed25519.GenerateKey(rand.Reader)
	signer, err := ssh.NewSignerFromKey(hostKey)
	if err != nil {
		t.Fatal(err)
	}
	g := &gitSSHServer{root: root, keys: map[string]bool{}}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.keys[string(k.Marshal())] {
			return nil, nil
		}
		return nil, io.EOF
	}}
	cfg.AddHostKey(signer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	g.addr = ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go g.serve(c, cfg)
		}
	}()
	return g
}

func (g *gitSSHServer) trust(t *testing.T, authorized string) {
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorized))
	if err != nil {
		t.Fatalf("public key %q: %v", authorized, err)
	}
	g.mu.Lock()
	g.keys[string(k.Marshal())] = true
	g.mu.Unlock()
}

func (g *gitSSHServer) serve(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go g.session(ch, chReqs)
	}
}

// session runs the one command git asks for: git-upload-pack 'path'.
func (g *gitSSHServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		var p struct{ Command string }
		ssh.Unmarshal(req.Payload, &p)
		req.Reply(true, nil)
		repo := strings.Trim(strings.TrimPrefix(p.Command, "git-upload-pack "), "'/")
		status := uint32(128)
		if strings.HasPrefix(p.Command, "git-upload-pack ") && !strings.Contains(repo, "..") {
			cmd := exec.Command("git-upload-pack", filepath.Join(g.root, repo))
			cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
			in, _ := cmd.StdinPipe()
			if cmd.Start() == nil {
				go func() { io.Copy(in, ch); in.Close() }()
				cmd.Wait()
				status = uint32(cmd.ProcessState.ExitCode())
			}
		}
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

func TestGitImportSSH(t *testing.T) {
	testserver.NeedSandbox(t)
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("ssh is not installed")
	}
	root := t.TempDir()
	sourceRepo(t, filepath.Join(root, "demo.git"))
	host := newGitSSHServer(t, root)
	_, port, _ := net.SplitHostPort(host.addr)
	repoURL := "ssh://git@127.0.0.1:" + port + "/demo.git"

	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ann := s.SignUp(t, "ann")
		ann.Post(t, "/api/projects", map[string]string{"gitUrl": repoURL}).WantError(t, 400, "no_ssh_key")
		var none struct{ SSHKey *struct{ PublicKey string } }
		ann.Get(t, "/api/user/ssh-key").WantStatus(t, 200).Decode(t, &none)
		if none.SSHKey != nil {
			t.Fatalf("no key yet, but the API answers %+v", none.SSHKey)
		}

		var made struct {
			SSHKey struct{ PublicKey, Fingerprint string }
		}
		ann.Post(t, "/api/user/ssh-key", nil).WantStatus(t, 201).Decode(t, &made)
		if !strings.HasPrefix(made.SSHKey.PublicKey, "ssh-ed25519 ") || !strings.HasSuffix(made.SSHKey.PublicKey, " ann@e-code") ||
			!strings.HasPrefix(made.SSHKey.Fingerprint, "SHA256:") {
			t.Fatalf("ssh key = %+v", made.SSHKey)
		}
		var got struct{ SSHKey struct{ PublicKey string } }
		ann.Get(t, "/api/user/ssh-key").WantStatus(t, 200).Decode(t, &got)
		if got.SSHKey.PublicKey != made.SSHKey.PublicKey {
			t.Fatalf("GET ssh key = %q", got.SSHKey.PublicKey)
		}
		var sealed string
		if err := s.App.DB.Get(t.Context(), &sealed, `SELECT private_key FROM ssh_keys`); err != nil ||
			!strings.HasPrefix(sealed, "v1:") || strings.Contains(sealed, "PRIVATE KEY") {
			t.Fatalf("stored private key = %.40q, %v", sealed, err)
		}

		// The host does not know the key yet: refused, in plain words.
		ann.Post(t, "/api/projects", map[string]string{"gitUrl": repoURL}).WantError(t, 400, "ssh_key_refused")
		host.trust(t, made.SSHKey.PublicKey)

		var out struct{ Project testserver.Project }
		ann.Post(t, "/api/projects", map[string]string{"gitUrl": repoURL}).WantStatus(t, 201).Decode(t, &out)
		p := out.Project
		if p.Name != "demo" {
			t.Fatalf("imported project %+v", p)
		}
		wantImported(t, ann, p.ID)
		// The key was in the sandbox for the clone only.
		res := execIn(t, ann, p.ID, map[string]any{"command": "grep -rl 'PRIVATE KEY' /tmp /home/runner 2>/dev/null; env | grep -c ECODE_SSH"})
		if strings.Contains(res.Stdout, "/") || strings.TrimSpace(res.Stdout) != "0" {
			t.Fatalf("the key stayed in the sandbox: %+v", res)
		}

		// A missing repository on a host that answers; another person's key.
		ann.Post(t, "/api/projects", map[string]string{"gitUrl": "ssh://git@127.0.0.1:" + port + "/nope.git", "name": "Nope"}).WantError(t, 400, "repo_not_found")
		bob := s.SignUp(t, "bob")
		bob.Post(t, "/api/user/ssh-key", nil).WantStatus(t, 201)
		bob.Post(t, "/api/projects", map[string]string{"gitUrl": repoURL}).WantError(t, 400, "ssh_key_refused")

		// Regenerating replaces the key; deleting it removes it.
		var again struct{ SSHKey struct{ PublicKey string } }
		ann.Post(t, "/api/user/ssh-key", nil).WantStatus(t, 201).Decode(t, &again)
		if again.SSHKey.PublicKey == made.SSHKey.PublicKey {
			t.Fatal("regenerating kept the old key")
		}
		ann.Delete(t, "/api/user/ssh-key").WantStatus(t, 204)
		ann.Get(t, "/api/user/ssh-key").WantStatus(t, 200).Decode(t, &none)
		if none.SSHKey != nil {
			t.Fatalf("deleted key still answered: %+v", none.SSHKey)
		}
		s.Anonymous().Get(t, "/api/user/ssh-key").WantStatus(t, 401)
	}, testserver.WithEgressPrivate("127.0.0.1/32"))
}

// Without the operator's word, a private address is refused for ssh too,
// in either form of the URL.
func TestGitImportSSHRefusesPrivate(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		ann := s.SignUp(t, "ann")
		ann.Post(t, "/api/user/ssh-key", nil).WantStatus(t, 201)
		for u, code := range map[string]string{
			"ssh://git@127.0.0.1:22/x.git": "address_refused",
			"git@10.1.2.3:owner/repo.git":  "address_refused",
			"-oProxyCommand=x":             "invalid_git_url",
			"ssh:///no-host.git":           "invalid_git_url",
		} {
			ann.Post(t, "/api/projects", map[string]string{"gitUrl": u, "name": "Nope"}).WantError(t, 400, code)
		}
	})
}
