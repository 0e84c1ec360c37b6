package attack_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ecode/internal/audit"
	"ecode/internal/seal"
	"ecode/internal/testserver"
)

// auditRow is an audit entry as someone with the database sees it.
type auditRow struct {
	Seq       int64  `db:"seq"`
	At        int64  `db:"at"`
	ActorID   string `db:"actor_id"`
	Actor     string `db:"actor"`
	Action    string `db:"action"`
	Target    string `db:"target"`
	IP        string `db:"ip"`
	UserAgent string `db:"user_agent"`
	Details   string `db:"details"`
	Team      string `db:"team"`
	PrevMAC   string `db:"prev_mac"`
	MAC       string `db:"mac"`
}

// auditPlainSum is what an attacker without the key can compute: the
// chain's documented unkeyed form, each field length-prefixed.
func auditPlainSum(e auditRow) string {
	h := sha256.New()
	fields := []string{strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At, 10), e.ActorID, e.Actor, e.Action,
		e.Target, e.IP, e.UserAgent, e.Details, e.PrevMAC}
	if e.Team != "" {
		fields = append(fields, "team", e.Team)
	}
	for _, f := range fields {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// verifyAudit runs what `ecode admin verify-audit` runs against s's
// database and data directory.
func verifyAudit(t *testing.T, s *testserver.Server, heads ...audit.Head) (audit.Report, error) {
	t.Helper()
	c := s.App.Config
	keys, err := seal.Load(c.MasterKey, filepath.Join(c.DataDir, "master.key"), c.PreviousKeys)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.OpenInstall(t.Context(), s.App.DB, keys, c.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	return log.Verify(t.Context(), heads...)
}

// auditActivity leaves a few dozen entries in s's log and returns how many.
func auditActivity(t *testing.T, s *testserver.Server) int64 {
	t.Helper()
	vic := s.SignUp(t, "victim")
	for i := range 3 {
		vic.Post(t, "/api/tokens", map[string]string{"name": "t" + strconv.Itoa(i)}).WantStatus(t, 201)
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "victim", "password": "not-the-password"}).WantStatus(t, 401)
	}
	p := vic.CreateProject(t, "Evidence")
	vic.Put(t, "/api/projects/"+p.ID+"/secrets/KEY", map[string]string{"value": "v"}).WantStatus(t, 204)
	rep, err := verifyAudit(t, s)
	if err != nil || rep.Entries < 8 {
		t.Fatalf("untouched log: %+v, %v", rep, err)
	}
	return rep.Entries
}

func wantAuditBroken(t *testing.T, err error, reason string) {
	t.Helper()
	var broken *audit.Broken
	if !errors.As(err, &broken) || !strings.Contains(broken.Reason, reason) {
		t.Fatalf("verify-audit = %v; the attack went unnoticed (want %q)", err, reason)
	}
}

// Attack 13a: deleting the newest entries left a chain that verified.
func TestAuditTruncationFound(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		n := auditActivity(t, s)
		if _, err := s.App.DB.Exec(t.Context(), `DELETE FROM audit_log WHERE seq > ?`, n-3); err != nil {
			t.Fatal(err)
		}
		_, err := verifyAudit(t, s)
		wantAuditBroken(t, err, "truncated")
		healthy(t, s)
	})
}

// Attack 13b: rewriting an entry and recomputing the hashes after it left
// a chain that verified.
func TestAuditRewriteFound(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		n := auditActivity(t, s)
		db, from := s.App.DB, n/2
		if _, err := db.Exec(t.Context(), `UPDATE audit_log SET ip = '203.0.113.9', actor = 'someone-else' WHERE seq = ?`, from); err != nil {
			t.Fatal(err)
		}
		var rows []auditRow
		if err := db.Select(t.Context(), &rows, `SELECT seq, at, actor_id, actor, action, target, ip, user_agent, details, team, prev_mac, mac
			FROM audit_log ORDER BY seq`); err != nil {
			t.Fatal(err)
		}
		prev := ""
		for _, e := range rows {
			if e.Seq >= from {
				e.PrevMAC = prev
				e.MAC = auditPlainSum(e)
				if _, err := db.Exec(t.Context(), `UPDATE audit_log SET prev_mac = ?, mac = ? WHERE seq = ?`, e.PrevMAC, e.MAC, e.Seq); err != nil {
					t.Fatal(err)
				}
			}
			prev = e.MAC
		}
		_, err := verifyAudit(t, s)
		wantAuditBroken(t, err, "changed")
		// The server's own verify says the same.
		var v struct {
			Intact   bool
			BrokenAt int64
		}
		admin := s.Anonymous() // the victim signed up first: a platform administrator
		admin.Post(t, "/api/auth/login", map[string]string{"login": "victim", "password": "password-victim"}).WantStatus(t, 200)
		admin.Post(t, "/api/admin/audit/verify", nil).WantStatus(t, 200).Decode(t, &v)
		if v.Intact || v.BrokenAt != from {
			t.Fatalf("server verify after a rewrite: %+v", v)
		}
		healthy(t, s)
	})
}

// An untouched log verifies, and keeps verifying against a head noted
// earlier as it grows.
func TestAuditUntouchedVerifies(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		auditActivity(t, s)
		rep, err := verifyAudit(t, s)
		if err != nil {
			t.Fatal(err)
		}
		s.SignUp(t, "later")
		if rep2, err := verifyAudit(t, s, rep.Head); err != nil || rep2.Entries <= rep.Entries || rep2.Anchors != 2 {
			t.Fatalf("grown log against an earlier head: %+v, %v", rep2, err)
		}
	})
}
