package domain_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"ecode/internal/auth"
	"ecode/internal/domain"
	"ecode/internal/events"
	"ecode/internal/testserver"
)

func TestMain(m *testing.M) { testserver.Main(m) }

type domainView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Verified    bool   `json:"verified"`
	VerifiedAt  *int64 `json:"verifiedAt"`
	Token       string `json:"token"`
	ProofURL    string `json:"proofUrl"`
	URL         string `json:"url"`
	Record      struct{ Type, Name, Value string }
	Certificate struct {
		Status   string `json:"status"`
		NotAfter *int64 `json:"notAfter"`
	} `json:"certificate"`
}

func addDomain(t testing.TB, c *testserver.Client, projectID, name string) domainView {
	t.Helper()
	var out struct{ Domain domainView }
	c.Post(t, "/api/projects/"+projectID+"/domains", map[string]string{"name": name}).WantStatus(t, http.StatusCreated).Decode(t, &out)
	return out.Domain
}

func listDomains(t testing.TB, c *testserver.Client, projectID string) []domainView {
	t.Helper()
	var out struct{ Domains []domainView }
	c.Get(t, "/api/projects/"+projectID+"/domains").WantStatus(t, http.StatusOK).Decode(t, &out)
	return out.Domains
}

// get requests path on the server as host would be asked for.
func get(t testing.TB, s *testserver.Server, host, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func wantError(t testing.TB, res *testserver.Response, status int, code string) {
	t.Helper()
	res.WantStatus(t, status)
	var out struct {
		Error struct{ Code, Message string }
	}
	res.Decode(t, &out)
	if out.Error.Code != code {
		t.Fatalf("error code %q (%s), want %q", out.Error.Code, out.Error.Message, code)
	}
}

// TestDomains adds, lists and removes domains: names checked and
// normalised, one project per name, editors only, the proof served on the
// name, and a verify that cannot reach the name says what it saw.
func TestDomains(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice, bob := s.SignUp(t, "alice"), s.SignUp(t, "bob")
		p := alice.CreateProject(t, "Shop")
		q := bob.CreateProject(t, "Other")

		d := addDomain(t, alice, p.ID, " Shop.Example.TEST. ")
		if d.Name != "shop.example.test" || d.Verified || len(d.Token) != 32 || d.Certificate.Status != "none" ||
			d.URL != "http://shop.example.test/" || d.ProofURL != "http://shop.example.test/.well-known/ecode-domain/"+d.Token {
			t.Fatalf("new domain: %+v", d)
		}
		if d.Record.Type != "A" || d.Record.Name != "shop.example.test" || d.Record.Value != "127.0.0.1" {
			t.Fatalf("a platform known by its address asks for an A record: %+v", d.Record)
		}
		wantError(t, bob.Post(t, "/api/projects/"+q.ID+"/domains", map[string]string{"name": "SHOP.example.test"}), http.StatusConflict, "domain_taken")
		wantError(t, alice.Post(t, "/api/projects/"+p.ID+"/domains", map[string]string{"name": "shop.example.test"}), http.StatusConflict, "domain_taken")
		for _, bad := range []string{"127.0.0.1", "localhost", "x.app.localhost", "site--alice.localhost", "https://a.example.test/", "nodot"} {
			wantError(t, alice.Post(t, "/api/projects/"+p.ID+"/domains", map[string]string{"name": bad}), http.StatusBadRequest, "invalid_domain")
		}
		// Strangers see nothing and change nothing.
		bob.Get(t, "/api/projects/"+p.ID+"/domains").WantStatus(t, http.StatusNotFound)
		bob.Post(t, "/api/projects/"+p.ID+"/domains", map[string]string{"name": "b.example.test"}).WantStatus(t, http.StatusNotFound)
		bob.Delete(t, "/api/projects/"+p.ID+"/domains/"+d.ID).WantStatus(t, http.StatusNotFound)

		// The proof is answered on the name, and only its own token.
		if code, body := get(t, s, "shop.example.test", "/.well-known/ecode-domain/"+d.Token); code != 200 || body != d.Token {
			t.Fatalf("proof: %d %q", code, body)
		}
		if code, _ := get(t, s, "shop.example.test:80", "/.well-known/ecode-domain/"+strings.Repeat("0", 32)); code != 404 {
			t.Fatalf("another token: %d", code)
		}
		// An unverified name serves nothing of the project, and not the platform either.
		if code, body := get(t, s, "shop.example.test", "/"); code != 404 || !strings.Contains(body, "not verified") {
			t.Fatalf("unverified domain: %d %q", code, body)
		}
		if code, _ := get(t, s, "shop.example.test", "/api/auth/me"); code != 404 {
			t.Fatalf("the platform's API on a custom domain: %d", code)
		}

		// .test names resolve nowhere: the verify says so.
		res := alice.Post(t, "/api/projects/"+p.ID+"/domains/"+d.ID+"/verify", map[string]any{})
		wantError(t, res, http.StatusConflict, "domain_unverified")
		if !strings.Contains(string(res.Body), "shop.example.test") || !strings.Contains(string(res.Body), "DNS") {
			t.Fatalf("unverified: %s", res.Body)
		}

		if l := listDomains(t, alice, p.ID); len(l) != 1 || l[0].ID != d.ID || l[0].Verified {
			t.Fatalf("list: %+v", l)
		}
		alice.Delete(t, "/api/projects/"+p.ID+"/domains/"+d.ID).WantStatus(t, http.StatusNoContent)
		alice.Delete(t, "/api/projects/"+p.ID+"/domains/"+d.ID).WantStatus(t, http.StatusNotFound)
		if l := listDomains(t, alice, p.ID); len(l) != 0 {
			t.Fatalf("after remove: %+v", l)
		}
		// Once removed, the name is free for another project, and a deleted project frees its names.
		addDomain(t, bob, q.ID, "shop.example.test")
		bob.Delete(t, "/api/projects/"+q.ID).WantStatus(t, http.StatusNoContent)
		addDomain(t, alice, p.ID, "shop.example.test")

		// A name left unverified for over a week is anyone's who asks for it.
		r := bob.CreateProject(t, "Squat")
		stale := addDomain(t, bob, r.ID, "stale.example.test")
		wantError(t, alice.Post(t, "/api/projects/"+p.ID+"/domains", map[string]string{"name": "stale.example.test"}), http.StatusConflict, "domain_taken")
		if _, err := s.App.DB.Exec(context.Background(), `UPDATE domains SET created_at = ? WHERE id = ?`,
			time.Now().Add(-8*24*time.Hour).UnixMilli(), stale.ID); err != nil {
			t.Fatal(err)
		}
		addDomain(t, alice, p.ID, "stale.example.test")
		if l := listDomains(t, bob, r.ID); len(l) != 0 {
			t.Fatalf("the stale claim stayed: %+v", l)
		}
	})
}

// dialTo connects every address to the server at addr, as DNS pointing
// the names here would.
func dialTo(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
}

// verifier is the platform's verification with the names of the test
// pointing at s: over the network, to the real server, on the same database.
func verifier(t testing.TB, s *testserver.Server) *domain.Service {
	t.Helper()
	v, err := domain.NewService(s.App.DB, events.New(), s.App.Projects, s.App.Deploys, nil, domain.Options{
		DataDir: t.TempDir(), PublicURL: s.App.Config.PublicURL, Dial: dialTo(s.Listener.Addr().String()),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// TestVerify proves a domain through the real server: its DNS (here, the
// dialer) points at the platform, which fetches the token from itself.
func TestVerify(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		alice := s.SignUp(t, "alice")
		p := alice.CreateProject(t, "Shop")
		d := addDomain(t, alice, p.ID, "shop.example.test")
		v := verifier(t, s)
		ctx := context.Background()

		if err := s.App.Domains.Decide(ctx, "shop.example.test"); err == nil {
			t.Fatal("an unverified domain may get a certificate")
		}
		got, err := v.Verify(ctx, actor(alice), p.ID, d.ID)
		if err != nil || !got.Verified || got.VerifiedAt == nil {
			t.Fatalf("verify: %+v, %v", got, err)
		}
		// The server's own view agrees, once its memory of the name lapses.
		eventually(t, func() bool { l := listDomains(t, alice, p.ID); return len(l) == 1 && l[0].Verified })
		// Verified, but nothing deployed: still no certificate, and the deployment's 404.
		eventually(t, func() bool {
			err := s.App.Domains.Decide(ctx, "shop.example.test")
			return err != nil && strings.Contains(err.Error(), "no live deployment")
		})
		eventually(t, func() bool {
			code, body := get(t, s, "shop.example.test", "/")
			return code == 404 && strings.Contains(body, "Nothing deployed")
		})
		for _, name := range []string{"unknown.example.test", "", "127.0.0.1"} {
			if err := s.App.Domains.Decide(ctx, name); err == nil {
				t.Fatalf("decision for %q admitted it", name)
			}
		}

		// A name pointing elsewhere is not verified: another server answers without the token.
		other := addDomain(t, alice, p.ID, "www.example.test")
		elsewhere := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go elsewhere.Serve(ln)
		t.Cleanup(func() { elsewhere.Close() })
		w, err := domain.NewService(s.App.DB, events.New(), s.App.Projects, s.App.Deploys, nil, domain.Options{
			DataDir: t.TempDir(), PublicURL: s.App.Config.PublicURL, Dial: dialTo(ln.Addr().String()),
		})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if _, err := w.Verify(ctx, actor(alice), p.ID, other.ID); err == nil || !strings.Contains(err.Error(), "another server") {
			t.Fatalf("verify against another server: %v", err)
		}
	})
}

// actor is c's account, for calling a service directly.
func actor(c *testserver.Client) *auth.User {
	return &auth.User{ID: c.User.ID, Username: c.User.Username, Email: c.User.Email}
}

func eventually(t testing.TB, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
	}
}
