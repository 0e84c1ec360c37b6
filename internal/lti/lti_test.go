package lti_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"ecode/internal/errs"
	"ecode/internal/lti/ltitest"
	"ecode/internal/testserver"
)

// The test binary is also the sandbox agent: submissions are graded in sandboxes.
func TestMain(m *testing.M) { testserver.Main(m) }

// browser is a person's browser: a cookie jar the LTI flow fills, and an
// API client that sends the same cookies.
type browser struct {
	http *http.Client
	api  *testserver.Client
	s    *testserver.Server
}

func newBrowser(s *testserver.Server) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{http: &http.Client{Jar: jar}, s: s}
}

// launch logs in from the LMS and posts the launch; it returns the
// tool's answer (not followed) and, on success, the API client.
func (b *browser) launch(t *testing.T, lms *ltitest.Platform, m ltitest.Message) *http.Response {
	t.Helper()
	f, err := lms.Login(context.Background(), b.http, b.s.URL+"/lti/login", m)
	if err != nil {
		t.Fatal(err)
	}
	return b.post(t, f)
}

func (b *browser) post(t *testing.T, f ltitest.Form) *http.Response {
	t.Helper()
	res, err := ltitest.Post(context.Background(), b.http, f)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusSeeOther {
		u, _ := url.Parse(b.s.URL)
		var parts []string
		for _, c := range b.http.Jar.Cookies(u) {
			parts = append(parts, c.Name+"="+c.Value)
		}
		b.api = b.s.Anonymous()
		b.api.Header.Set("Cookie", strings.Join(parts, "; "))
	}
	return res
}

func wantRedirect(t *testing.T, res *http.Response, prefix string) string {
	t.Helper()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("launch answered %d to %q, want 303 to %s…", res.StatusCode, loc, prefix)
	}
	return loc
}

// eventually polls ok until it holds; on time out, state says where things stood.
func eventually(t *testing.T, d time.Duration, what string, ok func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %s", what, state())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// register starts a mock LMS and registers it as the administrator.
func register(t *testing.T, s *testserver.Server, admin *testserver.Client) *ltitest.Platform {
	t.Helper()
	lms := ltitest.New(t, "ecode-tool")
	lms.ToolJWKS, lms.RedirectURI = s.URL+"/lti/jwks", s.URL+"/lti/launch"
	admin.Post(t, "/api/admin/lti/platforms", lms.Registration("Mock LMS")).WantStatus(t, http.StatusCreated)
	return lms
}

type courseOut struct {
	ID, Name, Role string
	LTI            *struct{ PlatformID, ContextID string }
}

const primes = "n = int(input())\nprint(' '.join(str(k) for k in range(2, n + 1) if all(k % d for d in range(2, k))))\n"

func TestLaunchDeepLinkPassbackRoster(t *testing.T) {
	testserver.NeedSandbox(t)
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		admin := s.SignUp(t, "olga") // the first account administers the platform
		lms := register(t, s, admin)
		var list struct {
			Platforms []struct{ ID, Issuer string }
			Tool      struct{ LoginURL, LaunchURL, JWKSURL, DeepLinkURL string }
		}
		admin.Get(t, "/api/admin/lti/platforms").WantStatus(t, http.StatusOK).Decode(t, &list)
		if len(list.Platforms) != 1 || list.Platforms[0].Issuer != lms.URL || list.Tool.LoginURL != s.URL+"/lti/login" ||
			list.Tool.DeepLinkURL != s.URL+"/lti/launch" || list.Tool.JWKSURL != s.URL+"/lti/jwks" {
			t.Fatalf("platforms: %+v", list)
		}
		admin.Post(t, "/api/admin/lti/platforms", lms.Registration("Again")).WantError(t, http.StatusConflict, "platform_exists")
		s.SignUp(t, "nobody").Post(t, "/api/admin/lti/platforms", lms.Registration("X")).WantStatus(t, http.StatusForbidden)

		// The instructor's first launch (a deep-linking request) makes the course.
		teacher := newBrowser(s)
		tm := ltitest.Message{Subject: "t-1", Name: "Tina Teach", GivenName: "Tina", Email: "tina@school.test",
			Roles: []string{ltitest.Instructor}, ContextID: "ctx-1", ContextTitle: "CS 101", DeepLinking: true}
		loc := wantRedirect(t, teacher.launch(t, lms, tm), "/lti/deep-link/")
		token := strings.TrimPrefix(loc, "/lti/deep-link/")
		var courses struct{ Courses []courseOut }
		teacher.api.Get(t, "/api/courses").WantStatus(t, http.StatusOK).Decode(t, &courses)
		if len(courses.Courses) != 1 || courses.Courses[0].Name != "CS 101" || courses.Courses[0].Role != "teacher" ||
			courses.Courses[0].LTI == nil || courses.Courses[0].LTI.ContextID != "ctx-1" {
			t.Fatalf("courses after the instructor's launch: %+v", courses)
		}
		c := courses.Courses[0]
		var created struct{ Assignment struct{ ID, Title string } }
		teacher.api.Post(t, "/api/courses/"+c.ID+"/assignments", map[string]any{"title": "Primes", "template": "blank", "runner": "io",
			"command": "python3 main.py", "published": true, "points": 10,
			"cases": []map[string]any{{"name": "ten", "stdin": "10\n", "stdout": "2 3 5 7\n"}}}).
			WantStatus(t, http.StatusCreated).Decode(t, &created)
		aid := created.Assignment.ID

		// Deep linking: the teacher picks the assignment; the LMS verifies the answer.
		var choice struct {
			Course      struct{ ID, Name string }
			Assignments []struct{ ID, Title string }
			ReturnURL   string
		}
		teacher.api.Get(t, "/api/lti/deep-link/"+token).WantStatus(t, http.StatusOK).Decode(t, &choice)
		if choice.Course.ID != c.ID || len(choice.Assignments) != 1 || choice.Assignments[0].ID != aid || choice.ReturnURL != lms.URL+"/deep-link-return" {
			t.Fatalf("deep-link choice: %+v", choice)
		}
		s.SignUp(t, "stranger").Get(t, "/api/lti/deep-link/"+token).WantError(t, http.StatusNotFound, "not_found")
		// The page may post its answer to the LMS's origin, and only there.
		csp := teacher.api.Get(t, "/lti/deep-link/"+token).Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "form-action 'self' "+lms.URL+";") {
			t.Fatalf("the deep-linking page's policy does not let it post to the LMS: %s", csp)
		}
		if csp := teacher.api.Get(t, "/lti/deep-link/no-such-token").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self';") {
			t.Fatalf("an unknown request's page may post elsewhere: %s", csp)
		}
		var dl struct{ ReturnURL, JWT string }
		teacher.api.Post(t, "/api/lti/deep-link/"+token, map[string]any{"assignmentIds": []string{aid}}).WantStatus(t, http.StatusOK).Decode(t, &dl)
		items, err := lms.VerifyDeepLink(context.Background(), dl.JWT, "ctx-1")
		if err != nil {
			t.Fatalf("the LMS refuses the deep-linking response: %v", err)
		}
		if len(items) != 1 || items[0].Type != "ltiResourceLink" || items[0].Custom["assignment_id"] != aid || items[0].URL != s.URL+"/lti/launch" ||
			items[0].LineItem == nil || items[0].LineItem.ScoreMaximum != 10 || items[0].LineItem.ResourceID != aid {
			t.Fatalf("content items: %+v", items)
		}
		teacher.api.Post(t, "/api/lti/deep-link/"+token, map[string]any{"assignmentIds": []string{aid}}).WantError(t, http.StatusGone, "deep_link_expired")

		// Where the LMS gave only the line items container, the tool makes
		// the line item once; a hand grading is a score too.
		var handGraded struct{ Assignment struct{ ID string } }
		teacher.api.Post(t, "/api/courses/"+c.ID+"/assignments", map[string]any{"title": "Essay", "template": "blank", "runner": "io",
			"command": "cat main.py", "published": true, "rubric": []map[string]any{{"id": "style", "title": "Style", "points": 5}},
			"cases": []map[string]any{{"name": "any", "stdin": "", "stdout": "x\n"}}}).WantStatus(t, http.StatusCreated).Decode(t, &handGraded)
		second := newBrowser(s)
		wantRedirect(t, second.launch(t, lms, ltitest.Message{Subject: "s-2", Name: "Ada Lovelace", Roles: []string{ltitest.Learner},
			ContextID: "ctx-1", ResourceLinkID: "rl-2", Title: "Essay", Custom: map[string]string{"assignment_id": handGraded.Assignment.ID}}), "/@")
		var essay struct{ Submission struct{ ID string } }
		second.api.Post(t, "/api/courses/"+c.ID+"/assignments/"+handGraded.Assignment.ID+"/start", nil).WantStatus(t, http.StatusOK)
		second.api.Post(t, "/api/courses/"+c.ID+"/assignments/"+handGraded.Assignment.ID+"/submit", nil).WantStatus(t, http.StatusAccepted).Decode(t, &essay)
		teacher.api.Post(t, "/api/courses/"+c.ID+"/submissions/"+essay.Submission.ID+"/grade", map[string]any{
			"rubric": []map[string]any{{"id": "style", "points": 4}}, "feedback": "Neat"}).WantStatus(t, http.StatusOK)
		eventually(t, 60*time.Second, "the hand grading at the LMS", func() bool {
			for _, sc := range lms.Scores() {
				if sc.UserID == "s-2" && sc.Comment == "Neat" {
					return true
				}
			}
			return false
		}, func() string {
			return fmt.Sprintf("scores %+v, line items %+v, requests %v", lms.Scores(), lms.LineItems(), lms.Requests)
		})
		items2 := lms.LineItems()
		if len(items2) != 1 || items2[0].Label != "Essay" || items2[0].ScoreMaximum != 105 || items2[0].ResourceID != handGraded.Assignment.ID || items2[0].ResourceLinkID != "rl-2" {
			t.Fatalf("line items: %+v", items2)
		}
		for _, sc := range lms.Scores() {
			if sc.UserID == "s-2" && sc.LineItem != items2[0].ID {
				t.Fatalf("essay score posted to %s, want the new line item %s", sc.LineItem, items2[0].ID)
			}
		}

		// The LMS made the line item; a learner launches the placed link.
		lineItem := lms.AddLineItem("Primes", 10, "rl-1")
		student := newBrowser(s)
		sm := ltitest.Message{Subject: "s-1", Name: "Sam Student", Email: "sam@school.test", Roles: []string{ltitest.Learner},
			ContextID: "ctx-1", ResourceLinkID: "rl-1", Title: "Primes", Custom: map[string]string{"assignment_id": aid}, LineItem: lineItem}
		ws := wantRedirect(t, student.launch(t, lms, sm), "/@")
		var me struct {
			User struct{ Username, Email string }
		}
		student.api.Get(t, "/api/auth/me").WantStatus(t, http.StatusOK).Decode(t, &me)
		if me.User.Username != "sam-student" || ws != "/@sam-student/"+strings.Split(ws, "/")[2] {
			t.Fatalf("student %+v sent to %s", me.User, ws)
		}
		var started struct {
			Project struct{ ID, Slug, Owner string }
		}
		student.api.Post(t, "/api/courses/"+c.ID+"/assignments/"+aid+"/start", nil).WantStatus(t, http.StatusOK).Decode(t, &started)
		if ws != "/@"+started.Project.Owner+"/"+started.Project.Slug {
			t.Fatalf("redirected to %s, the copy is %+v", ws, started.Project)
		}
		student.api.Put(t, "/api/projects/"+started.Project.ID+"/files/main.py", primes).WantStatus(t, http.StatusNoContent)

		// The LMS refuses the first two scores; the passback is retried.
		lms.FailScores("s-1", 2, http.StatusInternalServerError)
		var sub struct{ Submission struct{ ID string } }
		student.api.Post(t, "/api/courses/"+c.ID+"/assignments/"+aid+"/submit", nil).WantStatus(t, http.StatusAccepted).Decode(t, &sub)
		var lmsState struct {
			Linked    bool
			Platform  *struct{ ID, Name string }
			ContextID string
			Passbacks []passbackOut
		}
		sawFailure, last := false, ""
		var pb passbackOut
		passbackOf := func(sid string) passbackOut {
			for _, p := range lmsState.Passbacks {
				if p.SubmissionID == sid {
					return p
				}
			}
			return passbackOut{}
		}
		eventually(t, 120*time.Second, "the score at the LMS", func() bool {
			teacher.api.Get(t, "/api/courses/"+c.ID+"/lti").WantStatus(t, http.StatusOK).Decode(t, &lmsState)
			pb = passbackOf(sub.Submission.ID)
			if pb.Status == "failed" && strings.Contains(pb.Error, "500") {
				sawFailure = true
			}
			done := pb.Status == "sent"
			if !done {
				last = string(student.api.Get(t, "/api/courses/"+c.ID+"/submissions/"+sub.Submission.ID).Body)
			}
			return done
		}, func() string {
			return fmt.Sprintf("submission %s; LMS state %+v; LMS requests %v", last, lmsState, lms.Requests)
		})
		score := scoreOf(lms, "s-1")
		if score.UserID != "s-1" || score.ScoreGiven != 10 || score.ScoreMaximum != 10 || score.LineItem != lineItem ||
			score.ActivityProgress != "Completed" || score.GradingProgress != "FullyGraded" {
			t.Fatalf("score at the LMS: %+v", score)
		}
		if !lmsState.Linked || lmsState.Platform == nil || lmsState.Platform.Name != "Mock LMS" || pb.SubmissionID != sub.Submission.ID ||
			pb.Username != "sam-student" || pb.Attempts != 3 || pb.SentAt == 0 || pb.Error != "" || !sawFailure {
			t.Fatalf("course LMS state: %+v (saw failure: %v)", lmsState, sawFailure)
		}
		var seen struct {
			Submission struct{ LMS *struct{ Status string } }
		}
		student.api.Get(t, "/api/courses/"+c.ID+"/submissions/"+sub.Submission.ID).WantStatus(t, http.StatusOK).Decode(t, &seen)
		if seen.Submission.LMS == nil || seen.Submission.LMS.Status != "sent" {
			t.Fatalf("the submission's lms: %+v", seen.Submission.LMS)
		}
		student.api.Get(t, "/api/courses/"+c.ID+"/lti").WantError(t, http.StatusNotFound, "not_found")
		student.api.Post(t, "/api/courses/"+c.ID+"/lti/roster-sync", nil).WantError(t, http.StatusNotFound, "not_found")

		// A teacher sends a score again by hand; students see no LMS state.
		teacher.api.Post(t, "/api/courses/"+c.ID+"/lti/passbacks/"+sub.Submission.ID+"/retry", nil).WantStatus(t, http.StatusAccepted)
		eventually(t, 60*time.Second, "the score sent again", func() bool {
			n := 0
			for _, sc := range lms.Scores() {
				if sc.UserID == "s-1" {
					n++
				}
			}
			return n == 2
		}, func() string { return fmt.Sprintf("scores %+v", lms.Scores()) })
		student.api.Post(t, "/api/courses/"+c.ID+"/lti/passbacks/"+sub.Submission.ID+"/retry", nil).WantError(t, http.StatusNotFound, "not_found")

		// A TA launched from the LMS reads the course's LMS state but changes nothing.
		ta := newBrowser(s)
		wantRedirect(t, ta.launch(t, lms, ltitest.Message{Subject: "ta-1", Name: "Tom Assist", Roles: []string{ltitest.TeachingAssistant},
			ContextID: "ctx-1", ResourceLinkID: "rl-1", Custom: map[string]string{"assignment_id": aid}}), "/courses/"+c.ID+"/assignments/"+aid)
		ta.api.Get(t, "/api/courses/"+c.ID+"/lti").WantStatus(t, http.StatusOK)
		ta.api.Post(t, "/api/courses/"+c.ID+"/lti/roster-sync", nil).WantError(t, http.StatusForbidden, "forbidden")
		ta.api.Post(t, "/api/courses/"+c.ID+"/lti/passbacks/"+sub.Submission.ID+"/retry", nil).WantError(t, http.StatusForbidden, "forbidden")

		// Roster sync adds the LMS's new people; of those gone from the LMS,
		// only the ones a sync added leave the course.
		roster := []ltitest.Member{
			{UserID: "t-1", Name: "Tina Teach", Roles: []string{ltitest.Instructor}},
			{UserID: "s-1", Name: "Sam Student", Roles: []string{"Learner"}},
			{UserID: "s-2", Name: "Ada Lovelace", Roles: []string{"Learner"}},
			{UserID: "ta-1", Name: "Tom Assist", Roles: []string{ltitest.TeachingAssistant}},
			{UserID: "s-3", Name: "Bea", Email: "bea@school.test", Roles: []string{ltitest.Learner}},
			{UserID: "s-4", GivenName: "Cy", Name: "Cy Young", Roles: []string{ltitest.Instructor}},
			{UserID: "s-9", Name: "Gone Student", Status: "Inactive", Roles: []string{"Learner"}},
		}
		lms.SetMembers(roster)
		var ch struct{ Added, Updated, Removed int }
		teacher.api.Post(t, "/api/courses/"+c.ID+"/lti/roster-sync", nil).WantStatus(t, http.StatusOK).Decode(t, &ch)
		if ch.Added != 2 || ch.Updated != 0 || ch.Removed != 0 {
			t.Fatalf("first sync: %+v", ch)
		}
		members := func() map[string]string {
			var out struct {
				Members []struct{ Username, Role string }
			}
			teacher.api.Get(t, "/api/courses/"+c.ID+"/members").WantStatus(t, http.StatusOK).Decode(t, &out)
			roles := map[string]string{}
			for _, m := range out.Members {
				roles[m.Username] = m.Role
			}
			return roles
		}
		if roles := members(); len(roles) != 6 || roles["ada-lovelace"] != "student" || roles["bea"] != "student" || roles["cy-young"] != "teacher" ||
			roles["tom-assist"] != "ta" || roles["sam-student"] != "student" || roles["tina"] != "teacher" {
			t.Fatalf("members after sync: %v", roles)
		}
		roster[1].Roles = []string{ltitest.TeachingAssistant} // Sam becomes a TA
		lms.SetMembers(append(roster[:3:3], roster[4]))       // Tom (who launched himself) and Cy left
		teacher.api.Post(t, "/api/courses/"+c.ID+"/lti/roster-sync", nil).WantStatus(t, http.StatusOK).Decode(t, &ch)
		if ch.Added != 0 || ch.Updated != 1 || ch.Removed != 2 {
			t.Fatalf("second sync: %+v", ch)
		}
		if roles := members(); len(roles) != 5 || roles["cy-young"] != "" || roles["tom-assist"] != "ta" || roles["sam-student"] != "ta" {
			t.Fatalf("members after the second sync: %v", roles)
		}
	})
}

type passbackOut struct {
	SubmissionID, Username, Status, Error string
	Attempts                              int
	SentAt                                int64
}

// scoreOf is the last score the LMS has for user.
func scoreOf(lms *ltitest.Platform, user string) ltitest.Score {
	var out ltitest.Score
	for _, sc := range lms.Scores() {
		if sc.UserID == user {
			out = sc
		}
	}
	return out
}

// nonceOf reads the nonce of an id_token (unverified: the test's own).
func nonceOf(t *testing.T, idToken string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(idToken, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Nonce string }
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Nonce
}

func TestLaunchRefusals(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		admin := s.SignUp(t, "olga")
		lms := register(t, s, admin)
		ctx := context.Background()
		// A learner cannot open a course no instructor linked.
		learner := ltitest.Message{Subject: "s-1", Name: "Sam Student", Roles: []string{ltitest.Learner}, ContextID: "ctx-1", ResourceLinkID: "rl-1"}
		res := newBrowser(s).launch(t, lms, learner)
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("learner into an unlinked course: %d", res.StatusCode)
		}
		teacher := ltitest.Message{Subject: "t-1", Name: "Tina", Roles: []string{ltitest.Instructor}, ContextID: "ctx-1", ResourceLinkID: "rl-1"}
		b := newBrowser(s)
		good, err := lms.Login(ctx, b.http, s.URL+"/lti/login", teacher)
		if err != nil {
			t.Fatal(err)
		}
		wantRedirect(t, b.post(t, good), "/courses/")
		// The same id_token and state again.
		if res := b.post(t, good); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("replayed launch: %d", res.StatusCode)
		}
		for name, forge := range map[string]ltitest.Forge{
			"forged signature":  {WrongKey: true},
			"wrong audience":    {Audience: []string{"someone-else"}},
			"expired":           {Expired: true},
			"unknown deploy":    {DeploymentID: "deployment-9"},
			"replayed nonce":    {Nonce: nonceOf(t, good.IDToken)},
			"several audiences": {Audience: []string{"ecode-tool", "other"}},
		} {
			m := learner
			m.Subject, m.Name, m.Forge = "mallory-"+strings.ReplaceAll(name, " ", "-"), "Mallory", forge
			if res := newBrowser(s).launch(t, lms, m); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: launch answered %d, want 401", name, res.StatusCode)
			}
		}
		if _, err := s.App.Auth.UserByUsername(ctx, "mallory"); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("a refused launch made an account: %v", err)
		}
		// A state that is not this browser's.
		b2 := newBrowser(s)
		first, err := lms.Login(ctx, b2.http, s.URL+"/lti/login", learner)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := lms.Login(ctx, b2.http, s.URL+"/lti/login", learner); err != nil { // the cookie now holds the second state
			t.Fatal(err)
		}
		if res := b2.post(t, first); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("state mismatch: %d", res.StatusCode)
		}
		// The learner, now that the course is linked, gets in.
		wantRedirect(t, newBrowser(s).launch(t, lms, learner), "/courses/")

		// Several platforms: the same context id elsewhere is another course.
		other := register(t, s, admin)
		ob := newBrowser(s)
		otherCourse := wantRedirect(t, ob.launch(t, other, teacher), "/courses/")
		var mine struct{ Courses []courseOut }
		ob.api.Get(t, "/api/courses").WantStatus(t, http.StatusOK).Decode(t, &mine)
		if len(mine.Courses) != 1 || "/courses/"+mine.Courses[0].ID != otherCourse || otherCourse == wantRedirect(t, newBrowser(s).launch(t, lms, teacher), "/courses/") {
			t.Fatalf("the second platform's course %s: %+v", otherCourse, mine.Courses)
		}
		bad := other.Registration("Broken")
		bad["jwksUrl"] = "not a url"
		admin.Post(t, "/api/admin/lti/platforms", bad).WantError(t, http.StatusBadRequest, "invalid_platform")
		var list struct{ Platforms []struct{ ID, Issuer string } }
		admin.Get(t, "/api/admin/lti/platforms").WantStatus(t, http.StatusOK).Decode(t, &list)
		if len(list.Platforms) != 2 || list.Platforms[1].Issuer != other.URL {
			t.Fatalf("platforms: %+v", list.Platforms)
		}
		admin.Delete(t, "/api/admin/lti/platforms/"+list.Platforms[1].ID).WantStatus(t, http.StatusNoContent)
		if _, err := other.Login(ctx, newBrowser(s).http, s.URL+"/lti/login", teacher); err == nil || !strings.Contains(err.Error(), "unknown_platform") {
			t.Fatalf("login from a removed platform: %v", err)
		}

		// An unknown LMS is refused at login.
		anon := s.Anonymous()
		anon.Get(t, "/lti/login?iss=https://evil.test&login_hint=x&target_link_uri=x").WantError(t, http.StatusBadRequest, "unknown_platform")

		// The tool's keys: published with kid, the previous one kept after a rotation.
		kids := func() []string {
			var set struct {
				Keys []struct{ Kid, Kty, Alg, D string }
			}
			anon.Get(t, "/.well-known/jwks.json").WantStatus(t, http.StatusOK).Decode(t, &set)
			var out []string
			for _, k := range set.Keys {
				if k.Kty != "RSA" || k.Alg != "RS256" || k.D != "" || k.Kid == "" {
					t.Fatalf("published key %+v", k)
				}
				out = append(out, k.Kid)
			}
			return out
		}
		before := kids()
		var rotated struct{ Kid string }
		admin.Post(t, "/api/admin/lti/keys/rotate", nil).WantStatus(t, http.StatusOK).Decode(t, &rotated)
		after := kids()
		if len(before) != 1 || len(after) != 2 || after[0] != rotated.Kid || after[1] != before[0] {
			t.Fatalf("keys before %v, after rotation %v", before, after)
		}
	})
}
