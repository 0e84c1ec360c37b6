package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"ecode/internal/access"
	"ecode/internal/agent/agenttest"
	"ecode/internal/httpx"
	"ecode/internal/store/testdb"
	"ecode/internal/testserver"
	"ecode/internal/ws"
)

// need is what a route asks of its caller.
type need int

const (
	anyone   need = iota // public
	account              // any signed-in person, acting on what is theirs
	viewer               // may see the project
	editor               // may change the project
	owner                // administers the project
	platform             // a platform administrator

	// Team routes, on a scale of their own (a caller's team role).
	inTeam    // any member, viewers included
	teamAdmin // the team's admins and owners
	teamOwner // the team's owners

	// Course routes: a caller's course role decides (internal/course's and
	// internal/lti's tests check each role); here only that they need an
	// account.
	inCourse
)

// needs declares, for every route, who may call it. A route missing here
// fails TestRoutePermissions: adding a route means deciding this.
var needs = map[string]need{
	"GET /api/monitoring/health": anyone, "GET /metrics": anyone, "GET /api/templates": anyone,
	"POST /api/auth/signup": anyone, "POST /api/auth/login": anyone, "POST /api/auth/logout": anyone,
	"GET /api/auth/providers": anyone, "GET /api/auth/oauth/{provider}/start": anyone,
	"GET /api/auth/oauth/{provider}/callback": anyone, "POST /api/auth/oauth/username": anyone,
	"GET /api/auth/passkey": anyone, "POST /api/auth/passkey/begin": anyone, "POST /api/auth/passkey/finish": anyone,
	"POST /api/auth/second-factor/begin": anyone, "POST /api/auth/second-factor/finish": anyone,
	"GET /api/preview/pass": anyone,
	// Keyed by a deployment's public ingest key, from any site.
	"POST /api/monitoring/event": anyone, "OPTIONS /api/monitoring/event": anyone,
	"POST /api/monitoring/replay": anyone, "OPTIONS /api/monitoring/replay": anyone,
	// Signed by Stripe with the endpoint's secret.
	"POST /api/billing/stripe/webhook": anyone,

	"GET /api/auth/me": account, "PATCH /api/auth/me": account, "DELETE /api/auth/me": account,
	"POST /api/auth/password": account, "GET /api/auth/sessions": account, "DELETE /api/auth/sessions": account,
	"DELETE /api/auth/sessions/{id}": account, "GET /api/auth/identities": account,
	"DELETE /api/auth/identities/{provider}": account, "PUT /api/auth/second-factor": account,
	"GET /api/passkeys": account, "POST /api/passkeys/register/begin": account, "POST /api/passkeys/register/finish": account,
	"PATCH /api/passkeys/{id}": account, "DELETE /api/passkeys/{id}": account,
	"POST /api/tokens": account, "GET /api/tokens": account, "DELETE /api/tokens/{id}": account, "DELETE /api/tokens/current": account,
	"POST /api/auth/device/code": anyone, "POST /api/auth/device/token": anyone,
	"GET /api/auth/device": account, "POST /api/auth/device/approve": account,
	"GET /api/user/ssh-key": account, "POST /api/user/ssh-key": account, "DELETE /api/user/ssh-key": account,
	"GET /api/user/ai-usage": account, "GET /api/user/audit": account, "GET /api/ai/status": account,
	"GET /api/projects": account, "POST /api/projects": account,
	"GET /api/notifications": account, "POST /api/notifications/read": account,
	"GET /api/billing": account, "GET /api/billing/plans": account, "GET /api/billing/usage": account,
	"GET /api/billing/statement.csv": account, "GET /api/billing/transactions": account,
	"POST /api/billing/checkout": account, "POST /api/billing/portal": account,
	"GET /api/invites/{token}": account, "POST /api/invites/{token}/accept": account,
	"GET /api/teams": account, "POST /api/teams": account,
	"GET /api/team-invites/{token}": account, "POST /api/team-invites/{token}/accept": account,

	"GET /api/projects/{id}": viewer, "GET /api/users/{owner}/projects/{slug}": viewer,
	"GET /api/projects/{id}/files": viewer, "GET /api/projects/{id}/files/{path...}": viewer,
	"GET /api/projects/{id}/zip": viewer, "GET /api/projects/{id}/search": viewer,
	"GET /api/projects/{id}/history": viewer, "GET /api/projects/{id}/members": viewer,
	"GET /api/projects/{id}/runs": viewer, "GET /api/projects/{id}/runs/{runId}": viewer,
	"GET /api/projects/{id}/history/{checkpoint}/diff": viewer, "GET /api/projects/{id}/run-config": viewer,
	"GET /api/projects/{id}/agent/runs": viewer, "GET /api/projects/{id}/agent/runs/{runId}": viewer,
	"GET /api/projects/{id}/runs/{runId}/output": viewer, "GET /api/projects/{id}/ws": viewer, "POST /api/projects/{id}/fork": viewer,
	"GET /api/projects/{id}/resources": viewer, "GET /api/projects/{id}/sandbox": viewer,
	"GET /api/projects/{id}/deployment": viewer, "GET /api/projects/{id}/releases/{releaseId}/log": viewer,
	"GET /api/projects/{id}/deployment/executions": viewer, "GET /api/projects/{id}/deployment/executions/{executionId}/log": viewer,
	"GET /api/projects/{id}/domains":              viewer,
	"GET /api/projects/{id}/deployment/instances": viewer, "GET /api/projects/{id}/deployment/metrics": viewer,
	"GET /api/projects/{id}/deployment/logs": viewer,
	"GET /api/projects/{id}/database":        viewer, "POST /api/projects/{id}/database/{env}/query": viewer,
	"GET /api/projects/{id}/database/{env}/history": viewer, "GET /api/projects/{id}/database/{env}/tables": viewer,
	"GET /api/projects/{id}/database/{env}/tables/{table}/rows": viewer, "GET /api/projects/{id}/database/{env}/backups": viewer,
	"POST /api/projects/{id}/database/{env}/refresh-size": viewer,
	"GET /api/projects/{id}/monitoring":                   viewer, "GET /api/projects/{id}/monitoring/overview": viewer,
	"GET /api/projects/{id}/monitoring/errors": viewer, "GET /api/projects/{id}/monitoring/errors/{fingerprint}": viewer,
	"GET /api/projects/{id}/monitoring/replays": viewer, "GET /api/projects/{id}/monitoring/replays/{session}": viewer,
	"GET /api/projects/{id}/monitoring/replays/{session}/chunks/{seq}": viewer,
	"GET /api/projects/{id}/alerts/rules":                              viewer, "GET /api/projects/{id}/alerts": viewer,

	"PUT /api/projects/{id}/files/{path...}": editor, "DELETE /api/projects/{id}/files/{path...}": editor,
	"POST /api/projects/{id}/mkdir": editor, "POST /api/projects/{id}/move": editor, "POST /api/projects/{id}/upload": editor,
	"POST /api/projects/{id}/checkpoints": editor, "POST /api/projects/{id}/restore": editor,
	"GET /api/projects/{id}/snapshots": editor, "POST /api/projects/{id}/snapshots": editor,
	"POST /api/projects/{id}/snapshots/{commit}/restore": editor, "POST /api/projects/{id}/data-snapshots/{snapshot}/restore": editor, "POST /api/projects/{id}/run": editor,
	"POST /api/projects/{id}/stop": editor, "POST /api/projects/{id}/exec": editor,
	"POST /api/projects/{id}/agent/runs": editor, "POST /api/projects/{id}/agent/runs/{runId}/stop": editor,
	"POST /api/projects/{id}/complete": editor, "POST /api/projects/{id}/sandbox/restart": editor,
	"GET /api/projects/{id}/secrets": editor, "GET /api/projects/{id}/secrets/{name}": editor,
	"PUT /api/projects/{id}/secrets/{name}": editor, "DELETE /api/projects/{id}/secrets/{name}": editor,
	"PUT /api/projects/{id}/deployment/config": editor, "POST /api/projects/{id}/deployments": editor,
	"POST /api/projects/{id}/releases/{releaseId}/promote": editor, "POST /api/projects/{id}/releases/{releaseId}/cancel": editor,
	"POST /api/projects/{id}/deployment/run": editor, "GET /api/projects/{id}/deployment/export": editor,
	"GET /api/projects/{id}/deployment/env": editor, "GET /api/projects/{id}/deployment/env/{name}": editor,
	"PUT /api/projects/{id}/deployment/env/{name}": editor, "DELETE /api/projects/{id}/deployment/env/{name}": editor,
	"GET /api/projects/{id}/deployment/webhook": editor, "PUT /api/projects/{id}/deployment/webhook": editor,
	"DELETE /api/projects/{id}/deployment/webhook": editor, "POST /api/projects/{id}/deployment/webhook/test": editor,
	"POST /api/projects/{id}/database": editor, "GET /api/projects/{id}/database/{env}/credentials": editor,
	"POST /api/projects/{id}/database/{env}/rotate": editor, "PATCH /api/projects/{id}/database/{env}/tables/{table}/rows": editor,
	"POST /api/projects/{id}/database/{env}/backups": editor, "POST /api/projects/{id}/database/{env}/backups/upload": editor,
	"GET /api/projects/{id}/database/{env}/backups/{backupId}/download": editor, "DELETE /api/projects/{id}/database/{env}/backups/{backupId}": editor,
	"POST /api/projects/{id}/database/{env}/backups/{backupId}/restore": editor, "POST /api/projects/{id}/database/prod/copy-from-dev": editor,
	"POST /api/projects/{id}/domains": editor, "POST /api/projects/{id}/domains/{domainId}/verify": editor, "DELETE /api/projects/{id}/domains/{domainId}": editor,
	"GET /api/projects/{id}/kv/{env}": editor, "GET /api/projects/{id}/kv/{env}/value": editor,
	"PUT /api/projects/{id}/kv/{env}/value": editor, "DELETE /api/projects/{id}/kv/{env}/value": editor,
	"GET /api/projects/{id}/storage/{env}": editor, "POST /api/projects/{id}/storage/{env}/buckets": editor,
	"DELETE /api/projects/{id}/storage/{env}/buckets/{bucket}": editor, "POST /api/projects/{id}/storage/{env}/uploads/{upload}/finish": editor,
	"GET /api/projects/{id}/storage/{env}/buckets/{bucket}/objects": editor, "DELETE /api/projects/{id}/storage/{env}/buckets/{bucket}/objects": editor,
	"GET /api/projects/{id}/storage/{env}/buckets/{bucket}/object": editor, "PUT /api/projects/{id}/storage/{env}/buckets/{bucket}/object": editor,
	"DELETE /api/projects/{id}/storage/{env}/buckets/{bucket}/object": editor, "POST /api/projects/{id}/storage/{env}/uploads": editor,
	"GET /api/projects/{id}/storage/{env}/uploads/{upload}": editor, "PUT /api/projects/{id}/storage/{env}/uploads/{upload}": editor,
	"DELETE /api/projects/{id}/storage/{env}/uploads/{upload}": editor,
	"PUT /api/projects/{id}/monitoring":                        editor, "PATCH /api/projects/{id}/monitoring/errors/{fingerprint}": editor,
	"POST /api/projects/{id}/alerts/rules": editor, "PATCH /api/projects/{id}/alerts/rules/{rule}": editor,
	"DELETE /api/projects/{id}/alerts/rules/{rule}": editor, "POST /api/projects/{id}/alerts/rules/{rule}/test": editor,
	"POST /api/projects/{id}/alerts/{alert}/silence": editor, "POST /api/projects/{id}/alerts/{alert}/resolve": editor,
	"GET /api/projects/{id}/alerts/webhook-secret": editor, "POST /api/projects/{id}/alerts/webhook-secret": editor,

	"PATCH /api/projects/{id}": owner, "DELETE /api/projects/{id}": owner, "POST /api/projects/{id}/transfer": owner,
	"POST /api/projects/{id}/members": owner, "PATCH /api/projects/{id}/members/{userId}": owner,
	"DELETE /api/projects/{id}/members/{userId}": owner, "PUT /api/projects/{id}/resources": owner,
	"POST /api/projects/{id}/invites": owner, "DELETE /api/projects/{id}/invites/{inviteId}": owner,
	"DELETE /api/projects/{id}/database/{env}": owner, "POST /api/projects/{id}/monitoring/key": owner,

	"GET /api/admin/audit": platform, "POST /api/admin/audit/verify": platform, "GET /api/admin/gpus": platform,
	"POST /api/admin/billing/grants": platform, "GET /api/admin/billing/reconcile": platform,
	"GET /api/monitoring/platform/overview": platform, "GET /api/monitoring/platform/errors": platform,
	"GET /api/monitoring/platform/errors/{fingerprint}": platform, "PATCH /api/monitoring/platform/errors/{fingerprint}": platform,

	"GET /api/teams/{team}": inTeam, "GET /api/teams/{team}/projects": inTeam, "GET /api/teams/{team}/members": inTeam,
	"PATCH /api/teams/{team}": teamAdmin, "POST /api/teams/{team}/members": teamAdmin,
	"PATCH /api/teams/{team}/members/{userId}": teamAdmin, "DELETE /api/teams/{team}/members/{userId}": teamAdmin,
	"POST /api/teams/{team}/invites": teamAdmin, "DELETE /api/teams/{team}/invites/{inviteId}": teamAdmin,
	"GET /api/teams/{team}/secrets": teamAdmin, "GET /api/teams/{team}/secrets/{name}": teamAdmin,
	"PUT /api/teams/{team}/secrets/{name}": teamAdmin, "DELETE /api/teams/{team}/secrets/{name}": teamAdmin,
	"GET /api/teams/{team}/allowlist": teamAdmin, "PUT /api/teams/{team}/allowlist": teamAdmin,
	"GET /api/teams/{team}/audit": teamAdmin,
	"DELETE /api/teams/{team}":    teamOwner,

	// LTI 1.3: the LMS's browser redirects and the tool's keys; a launch
	// is proved by the platform's signed id_token.
	"GET /lti/login": anyone, "POST /lti/login": anyone, "POST /lti/launch": anyone,
	"GET /lti/jwks": anyone, "GET /.well-known/jwks.json": anyone,
	"GET /api/admin/lti/platforms": platform, "POST /api/admin/lti/platforms": platform,
	"DELETE /api/admin/lti/platforms/{id}": platform, "POST /api/admin/lti/keys/rotate": platform,
	"GET /api/lti/deep-link/{token}": inCourse, "POST /api/lti/deep-link/{token}": inCourse,

	"GET /api/projects/{id}/assignment": viewer,
	"GET /api/courses":                  account, "POST /api/courses": account, "POST /api/courses/join": account,
	"GET /api/courses/{id}": inCourse, "PATCH /api/courses/{id}": inCourse, "DELETE /api/courses/{id}": inCourse,
	"POST /api/courses/{id}/join-code": inCourse, "GET /api/courses/{id}/members": inCourse,
	"POST /api/courses/{id}/members": inCourse, "PATCH /api/courses/{id}/members/{user}": inCourse,
	"DELETE /api/courses/{id}/members/{user}": inCourse,
	"GET /api/courses/{id}/assignments":       inCourse, "POST /api/courses/{id}/assignments": inCourse,
	"GET /api/courses/{id}/assignments/{aid}": inCourse, "PATCH /api/courses/{id}/assignments/{aid}": inCourse,
	"DELETE /api/courses/{id}/assignments/{aid}": inCourse, "POST /api/courses/{id}/assignments/{aid}/start": inCourse,
	"POST /api/courses/{id}/assignments/{aid}/check": inCourse, "POST /api/courses/{id}/assignments/{aid}/submit": inCourse,
	"GET /api/courses/{id}/assignments/{aid}/submissions": inCourse, "GET /api/courses/{id}/assignments/{aid}/similarity": inCourse,
	"GET /api/courses/{id}/submissions/{sid}": inCourse, "GET /api/courses/{id}/submissions/{sid}/files": inCourse,
	"GET /api/courses/{id}/submissions/{sid}/files/{path...}": inCourse, "POST /api/courses/{id}/submissions/{sid}/grade": inCourse,
	"POST /api/courses/{id}/submissions/{sid}/regrade": inCourse,
	"GET /api/courses/{id}/progress":                   inCourse, "GET /api/courses/{id}/progress.csv": inCourse,
	"GET /api/courses/{id}/lti": inCourse, "POST /api/courses/{id}/lti/roster-sync": inCourse,
	"POST /api/courses/{id}/lti/passbacks/{submissionId}/retry": inCourse,
}

// denied reports whether a response refuses the caller: 401, 403, or the
// 404 that hides a project from those who may not see it.
func denied(res *testserver.Response) bool {
	if res.StatusCode == 401 || res.StatusCode == 403 {
		return true
	}
	var e struct{ Error struct{ Message string } }
	_ = json.Unmarshal(res.Body, &e)
	return res.StatusCode == 404 && (e.Error.Message == access.ErrNotFound.Message || e.Error.Message == access.ErrNoTeam.Message)
}

// TestRoutePermissions calls every route as anonymous, a stranger, a
// viewer, an editor, the owner and a platform administrator, and checks
// each gets exactly what the route declares.
func TestRoutePermissions(t *testing.T) {
	model := httptest.NewServer(&agenttest.Model{})
	t.Cleanup(model.Close)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		checkSpec(t, s)
		admin := s.SignUp(t, "olga") // the first account administers the platform
		own := s.SignUp(t, "owen")
		other := s.SignUp(t, "walt") // a third collaborator, whom the member routes act on
		callers := []struct {
			name  string
			c     *testserver.Client
			level need
		}{
			{"anonymous", s.Anonymous(), -1},
			{"stranger", s.SignUp(t, "stan"), account},
			{"viewer", s.SignUp(t, "vera"), viewer},
			{"editor", s.SignUp(t, "eddy"), editor},
			{"owner", own, owner},
		}
		for i, route := range s.App.Router.Routes() {
			want, ok := needs[route]
			if !ok {
				t.Errorf("%s declares no permission: add it to needs", route)
				continue
			}
			method, path := httpx.SplitPattern(route)
			switch want {
			case inTeam, teamAdmin, teamOwner:
				continue // TestTeamRoutePermissions
			case inCourse:
				if res := s.Anonymous().Do(t, method, path, map[string]string{}); res.StatusCode != 401 {
					t.Errorf("%s answered anonymous %d, want 401", route, res.StatusCode)
				}
				continue
			case anyone, account, platform:
				anon := s.Anonymous().Do(t, method, path, map[string]string{})
				if want == anyone && (anon.StatusCode == 403 || strings.Contains(string(anon.Body), `"code":"unauthenticated"`)) {
					t.Errorf("%s is public but refused anonymous: %d", route, anon.StatusCode)
				}
				if want != anyone && anon.StatusCode != 401 {
					t.Errorf("%s answered anonymous %d, want 401", route, anon.StatusCode)
				}
				if want == platform {
					if res := callers[1].c.Do(t, method, path, nil); res.StatusCode != 403 {
						t.Errorf("%s answered a non-administrator %d, want 403", route, res.StatusCode)
					}
					if res := admin.Do(t, method, path, nil); denied(res) {
						t.Errorf("%s refused the platform administrator: %d", route, res.StatusCode)
					}
				}
				continue
			}
			// A project of its own for every route: the owner's call may delete it.
			p := projectFor(t, fmt.Sprintf("Guarded %d", i), own, callers[2].c, callers[3].c, other)
			for _, who := range callers {
				url := strings.NewReplacer("{id}", p.ID, "{path...}", "a.txt", "{owner}", "owen", "{slug}", p.Slug,
					"{runId}", p.runID, "{name}", "S", "{userId}", other.User.ID, "{inviteId}", p.inviteID, "{releaseId}", "no-such-release",
					"{executionId}", "no-such-execution", "{env}", "dev", "{table}", "notes", "{backupId}", "no-such-backup",
					"{bucket}", "default", "{upload}", "no-such-upload", "{commit}", strings.Repeat("0", 40), "{snapshot}", "no-such-snapshot").Replace(path) + query(route)
				res := who.c.Do(t, method, url, body(route))
				if allowed := who.level >= want; allowed == denied(res) {
					t.Errorf("%s as %s: %d %s; want allowed=%v", route, who.name, res.StatusCode, trim(res.Body), allowed)
				}
			}
		}
	}, testserver.WithAI(model.URL))
}

type fixture struct {
	testserver.Project
	runID, inviteID string
}

// projectFor makes a project of owner's with a file, a secret, a run and
// an invite, shared with a viewer and an editor.
func projectFor(t *testing.T, name string, owner, viewer, editor, other *testserver.Client) fixture {
	t.Helper()
	p := fixture{Project: owner.CreateProject(t, name)}
	base := "/api/projects/" + p.ID
	owner.Put(t, base+"/files/a.txt", "text").WantStatus(t, 204)
	owner.Put(t, base+"/secrets/S", map[string]string{"value": "shh-secret"}).WantStatus(t, 204)
	owner.Post(t, base+"/members", map[string]string{"username": viewer.User.Username, "role": "viewer"}).WantStatus(t, 201)
	owner.Post(t, base+"/members", map[string]string{"username": editor.User.Username, "role": "editor"}).WantStatus(t, 201)
	owner.Post(t, base+"/members", map[string]string{"username": other.User.Username, "role": "viewer"}).WantStatus(t, 201)
	var inv struct{ Invite struct{ ID string } }
	owner.Post(t, base+"/invites", map[string]any{"role": "viewer", "expiresInHours": 1}).WantStatus(t, 201).Decode(t, &inv)
	p.inviteID = inv.Invite.ID
	p.runID = "no-such-run"
	return p
}

// query is the query string a route needs to get past its own checks.
func query(route string) string {
	switch {
	case strings.HasSuffix(route, "/search"):
		return "?q=text"
	case strings.HasSuffix(route, "/kv/{env}/value"), strings.HasSuffix(route, "/object"):
		return "?key=k"
	case strings.HasSuffix(route, "/objects"):
		return "?prefix=folder/"
	case route == "PUT /api/projects/{id}/storage/{env}/uploads/{upload}":
		return "?offset=0"
	}
	return ""
}

// body is a request body each route accepts, so that a refusal comes from
// access and not from the body's shape.
func body(route string) any {
	switch {
	case strings.HasSuffix(route, "/database/{env}/query"):
		return map[string]string{"sql": "SELECT 1"}
	case strings.HasSuffix(route, "/kv/{env}/value"):
		return map[string]string{"value": "v"}
	case strings.HasSuffix(route, "/storage/{env}/buckets"):
		return map[string]string{"name": "photos"}
	case strings.HasSuffix(route, "/storage/{env}/uploads"):
		return map[string]string{"bucket": "default", "key": "k"}
	case strings.HasSuffix(route, "/tables/{table}/rows"):
		return map[string]any{"key": map[string]string{"id": "1"}, "set": map[string]string{"body": "x"}}
	case strings.HasSuffix(route, "/copy-from-dev"):
		return map[string]bool{"data": false}
	case strings.HasSuffix(route, "/database"), strings.HasSuffix(route, "/backups"), strings.HasSuffix(route, "/backups/{backupId}/restore"):
		return map[string]string{}
	case strings.Contains(route, "/deployment/env/"):
		return map[string]string{"value": "v"}
	case strings.HasSuffix(route, "/deployment/webhook"):
		return map[string]string{"url": "http://127.0.0.1:9/hook"} // refused at once: no test server allows loopback by default
	case strings.HasSuffix(route, "/deployment/webhook/test"):
		return map[string]string{}
	case strings.HasSuffix(route, "/domains/{domainId}/verify"):
		return map[string]string{}
	case strings.HasSuffix(route, "/domains"):
		return map[string]string{"name": "shop.example.test"}
	case strings.Contains(route, "/secrets/"):
		return map[string]string{"value": "v"}
	case strings.HasSuffix(route, "/move"):
		return map[string]string{"from": "a.txt", "to": "b.txt"}
	case strings.HasSuffix(route, "/mkdir"):
		return map[string]string{"path": "dir"}
	case strings.HasSuffix(route, "/restore"):
		return map[string]string{"checkpoint": strings.Repeat("0", 40)}
	case strings.HasSuffix(route, "/checkpoints"), strings.HasSuffix(route, "/snapshots"):
		return map[string]string{"message": "m"}
	case strings.HasSuffix(route, "/transfer"):
		return map[string]string{"owner": "crew"}
	case strings.HasSuffix(route, "/fork"):
		return map[string]string{}
	case strings.HasSuffix(route, "/exec"):
		return map[string]string{"command": "true"}
	case strings.HasSuffix(route, "/deployment/config"):
		return map[string]string{"target": "static"}
	case strings.HasSuffix(route, "/deployments"), strings.HasSuffix(route, "/deployment/run"):
		return map[string]string{}
	case strings.HasSuffix(route, "/complete"):
		return map[string]string{"path": "a.txt", "prefix": "x", "suffix": ""}
	case strings.HasSuffix(route, "/agent/runs"):
		return map[string]string{"prompt": "hello"}
	case strings.HasPrefix(route, "PATCH /api/projects/{id}/members/"):
		return map[string]string{"role": "editor"}
	case strings.HasPrefix(route, "PATCH /api/teams/{team}/members/"):
		return map[string]string{"role": "member"}
	case route == "PATCH /api/teams/{team}":
		return map[string]string{"displayName": "Renamed"}
	case route == "DELETE /api/teams/{team}":
		return map[string]string{"confirm": "crew"}
	case strings.HasSuffix(route, "/allowlist"):
		return map[string]any{"allowlist": []string{}}
	case strings.Contains(route, "/members"):
		return map[string]string{"username": "olga", "role": "viewer"}
	case strings.HasSuffix(route, "/invites"):
		return map[string]any{"role": "viewer", "expiresInHours": 1}
	case strings.HasPrefix(route, "PATCH /api/projects/"):
		return map[string]string{"name": "Renamed"}
	case strings.HasSuffix(route, "/resources"):
		return map[string]any{}
	case strings.HasPrefix(route, "PUT "):
		return "content"
	}
	return nil
}

func trim(b []byte) string {
	if len(b) > 160 {
		return string(b[:160])
	}
	return string(b)
}

// TestTeamRoutePermissions calls every team route, and every project
// route on a team's project, as anonymous, a stranger, and a team viewer,
// member, admin and owner: team roles are project roles on the team's
// projects, and rule the team itself.
func TestTeamRoutePermissions(t *testing.T) {
	model := httptest.NewServer(&agenttest.Model{})
	t.Cleanup(model.Close)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		checkSpec(t, s)
		s.SignUp(t, "olga") // the platform's administrator, in no team
		founder := s.SignUp(t, "owen")
		other := s.SignUp(t, "walt") // a team viewer and collaborator, whom the member routes act on
		callers := []struct {
			name          string
			c             *testserver.Client
			project, team need
			role          string
		}{
			{"anonymous", s.Anonymous(), -1, -1, ""},
			{"stranger", s.SignUp(t, "stan"), account, account, ""},
			{"team viewer", s.SignUp(t, "vera"), viewer, inTeam, "viewer"},
			{"team member", s.SignUp(t, "mia"), editor, inTeam, "member"},
			{"team admin", s.SignUp(t, "ada"), owner, teamAdmin, "admin"},
			{"team owner", founder, owner, teamOwner, ""},
		}
		newTeam := func(name string) (inviteID string) {
			founder.Post(t, "/api/teams", map[string]string{"name": name}).WantStatus(t, 201)
			for _, who := range callers {
				if who.role != "" {
					founder.Post(t, "/api/teams/"+name+"/members", map[string]string{"username": who.c.User.Username, "role": who.role}).WantStatus(t, 201)
				}
			}
			founder.Post(t, "/api/teams/"+name+"/members", map[string]string{"username": other.User.Username, "role": "viewer"}).WantStatus(t, 201)
			founder.Put(t, "/api/teams/"+name+"/secrets/S", map[string]string{"value": "team-secret"}).WantStatus(t, 204)
			var inv struct{ Invite struct{ ID string } }
			founder.Post(t, "/api/teams/"+name+"/invites", map[string]any{"role": "viewer", "expiresInHours": 1}).WantStatus(t, 201).Decode(t, &inv)
			return inv.Invite.ID
		}
		newTeam("crew")
		for i, route := range s.App.Router.Routes() {
			want := needs[route]
			if want < viewer || want == platform || want == inCourse {
				continue // TestRoutePermissions covers them
			}
			method, path := httpx.SplitPattern(route)
			// Two roles may delete: each deletes a fixture of its own.
			fresh := route == "DELETE /api/projects/{id}" || route == "DELETE /api/teams/{team}"
			var p fixture
			team, teamInvite := "crew", ""
			for j, who := range callers {
				switch {
				case (j == 0 || fresh) && want >= inTeam:
					team = fmt.Sprintf("crew%d-%d", i, j)
					teamInvite = newTeam(team)
				case j == 0 || fresh:
					p = teamProject(t, fmt.Sprintf("Guarded %d %d", i, j), founder, other)
				}
				url := strings.NewReplacer("{id}", p.ID, "{path...}", "a.txt", "{owner}", "crew", "{slug}", p.Slug, "{team}", team,
					"{runId}", p.runID, "{name}", "S", "{userId}", other.User.ID, "{inviteId}", p.inviteID+teamInvite,
					"{env}", "dev", "{bucket}", "default", "{upload}", "no-such-upload", "{commit}", strings.Repeat("0", 40), "{snapshot}", "no-such-snapshot").Replace(path) + query(route)
				b := body(route)
				if route == "DELETE /api/teams/{team}" {
					b = map[string]string{"confirm": team}
				}
				res := who.c.Do(t, method, url, b)
				level := who.project
				if want >= inTeam {
					level = who.team
				}
				if allowed := level >= want; allowed == denied(res) {
					t.Errorf("%s as %s: %d %s; want allowed=%v", route, who.name, res.StatusCode, trim(res.Body), allowed)
				}
			}
		}
	}, testserver.WithAI(model.URL))
}

// teamProject makes a project of team crew's with a file, a secret and an
// invite, shared with other as a collaborator.
func teamProject(t *testing.T, name string, founder, other *testserver.Client) fixture {
	t.Helper()
	var out struct{ Project testserver.Project }
	founder.Post(t, "/api/projects", map[string]string{"name": name, "owner": "crew"}).WantStatus(t, 201).Decode(t, &out)
	p := fixture{Project: out.Project, runID: "no-such-run"}
	base := "/api/projects/" + p.ID
	founder.Put(t, base+"/files/a.txt", "text").WantStatus(t, 204)
	founder.Put(t, base+"/secrets/S", map[string]string{"value": "shh-secret"}).WantStatus(t, 204)
	founder.Post(t, base+"/members", map[string]string{"username": other.User.Username, "role": "viewer"}).WantStatus(t, 201)
	var inv struct{ Invite struct{ ID string } }
	founder.Post(t, base+"/invites", map[string]any{"role": "viewer", "expiresInHours": 1}).WantStatus(t, 201).Decode(t, &inv)
	p.inviteID = inv.Invite.ID
	return p
}

// TestSocketPermissions sends every message type a workspace tab may send
// (ws.Needs) as a visitor of a public project, a viewer, an editor and
// the owner: each is refused exactly when the person may not do what the
// type asks, and a type missing from the table is refused as unknown.
func TestSocketPermissions(t *testing.T) {
	s := testserver.New(t, testdb.Engines(t)[0])
	own := s.SignUp(t, "owen")
	vera, eddy := s.SignUp(t, "vera"), s.SignUp(t, "eddy")
	p := own.CreateProject(t, "Sockets")
	base := "/api/projects/" + p.ID
	own.Patch(t, base, map[string]string{"visibility": "public"}).WantStatus(t, 200)
	own.Post(t, base+"/members", map[string]string{"username": "vera", "role": "viewer"}).WantStatus(t, 201)
	own.Post(t, base+"/members", map[string]string{"username": "eddy", "role": "editor"}).WantStatus(t, 201)
	callers := []struct {
		name  string
		c     *testserver.Client
		write bool
	}{{"anonymous", nil, false}, {"viewer", vera, false}, {"editor", eddy, true}, {"owner", own, true}}
	for _, who := range callers {
		conn := dialSocket(t, s, who.c, p.ID)
		for typ, need := range ws.Needs {
			refusal := probeSocket(t, conn, map[string]any{"type": typ, "id": "probe", "path": "a.txt", "rows": 24, "cols": 80})
			member := who.c != nil // the anonymous caller is the public project's only visitor here
			if allowed := need == access.Read || need == access.Watch && member || who.write; allowed == (refusal != "") {
				t.Errorf("%s as %s: refused %q; want allowed=%v", typ, who.name, refusal, allowed)
			}
		}
		if refusal := probeSocket(t, conn, map[string]any{"type": "doc.delete-everything", "id": "probe"}); refusal != "unknown_type" {
			t.Errorf("an undeclared type as %s: %q, want unknown_type", who.name, refusal)
		}
	}
}

func dialSocket(t *testing.T, s *testserver.Server, c *testserver.Client, projectID string) *websocket.Conn {
	t.Helper()
	h := http.Header{}
	if c != nil {
		h.Set("Cookie", c.CookieHeader(t))
	}
	conn, _, err := websocket.Dial(t.Context(), "ws"+strings.TrimPrefix(s.URL, "http")+"/api/projects/"+projectID+"/ws",
		&websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(-1)
	t.Cleanup(func() { conn.CloseNow() })
	return conn
}

// probeSocket sends m, then a message of an unknown type as a marker, and
// returns the code of an access refusal of m that came before the
// marker's answer ("" for none; "unknown_type" when m itself was unknown).
func probeSocket(t *testing.T, conn *websocket.Conn, m map[string]any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, out := range []map[string]any{m, {"type": "marker", "id": "marker"}} {
		b, _ := json.Marshal(out)
		if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	refusal := ""
	for {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("socket: %v", err)
		}
		var in struct{ Type, ID, Code string }
		_ = json.Unmarshal(b, &in)
		switch {
		case in.Type == "error" && in.ID == "marker":
			return refusal
		case in.Type == "error" && in.ID == "probe" && (in.Code == "forbidden" || in.Code == "unauthenticated" || in.Code == "not_found" || in.Code == "unknown_type"):
			refusal = in.Code
		}
	}
}
