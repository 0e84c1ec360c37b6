package audit_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ecode/internal/audit"
	"ecode/internal/seal"
	"ecode/internal/store"
	"ecode/internal/testserver"
)

// busy fills s's audit log with a few dozen entries of different kinds.
func busy(t *testing.T, s *testserver.Server) {
	t.Helper()
	amy := s.SignUp(t, "amy")
	for i := range 3 {
		amy.Post(t, "/api/tokens", map[string]string{"name": "t" + strconv.Itoa(i)}).WantStatus(t, 201)
		s.Anonymous().Post(t, "/api/auth/login", map[string]string{"login": "amy", "password": "not-her-password"}).WantStatus(t, 401)
	}
	p := amy.CreateProject(t, "Kept")
	amy.Put(t, "/api/projects/"+p.ID+"/secrets/K", map[string]string{"value": "v"}).WantStatus(t, 204)
}

// entries reads the whole log, oldest first.
func entries(t *testing.T, db *store.DB) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	if err := db.Select(t.Context(), &out, `SELECT seq, at, actor_id, actor, action, target, ip, user_agent, details, team, key_id, prev_mac, mac
		FROM audit_log ORDER BY seq`); err != nil {
		t.Fatal(err)
	}
	return out
}

// restore puts the log and its anchor back as they were.
func restore(t *testing.T, db *store.DB, es []audit.Entry, anchorPath string, anchor []byte) {
	t.Helper()
	if _, err := db.Exec(t.Context(), `DELETE FROM audit_log`); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if _, err := db.Exec(t.Context(), `INSERT INTO audit_log (seq, at, actor_id, actor, action, target, ip, user_agent, details, team, key_id, prev_mac, mac)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, e.At, e.ActorID, e.Actor, e.Action, e.Target, e.IP, e.UserAgent, e.Details, e.Team, e.KeyID, e.PrevMAC, e.MAC); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(anchorPath, anchor, 0o600); err != nil {
		t.Fatal(err)
	}
}

// rechainPlain rewrites every entry from seq on with a plain SHA-256
// chain, setting key ids to keyID, as someone with only the database can.
func rechainPlain(t *testing.T, db *store.DB, from int64, keyID string) {
	t.Helper()
	prev := ""
	for _, e := range entries(t, db) {
		if e.Seq >= from {
			e.PrevMAC, e.KeyID = prev, keyID
			e.MAC = audit.LegacySum(e)
			if _, err := db.Exec(t.Context(), `UPDATE audit_log SET prev_mac = ?, mac = ?, key_id = ? WHERE seq = ?`, e.PrevMAC, e.MAC, e.KeyID, e.Seq); err != nil {
				t.Fatal(err)
			}
		}
		prev = e.MAC
	}
}

func wantBroken(t *testing.T, err error, seq int64, reason string) {
	t.Helper()
	var broken *audit.Broken
	if !errors.As(err, &broken) || (seq > 0 && broken.Seq != seq) || !strings.Contains(broken.Reason, reason) {
		t.Fatalf("verify = %v; want broken at %d: %q", err, seq, reason)
	}
}

func TestChainShowsTruncationAndRewrites(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		busy(t, s)
		ctx, db := t.Context(), s.App.DB
		log := serverLog(t, s)
		rep, err := log.Verify(ctx)
		if err != nil || rep.Entries < 8 || rep.Anchors != 1 {
			t.Fatalf("untouched log: %+v, %v", rep, err)
		}
		anchorPath := filepath.Join(s.App.Config.DataDir, audit.AnchorFile)
		anchor, err := os.ReadFile(anchorPath)
		if err != nil {
			t.Fatal(err)
		}
		if h, err := audit.ParseHead(string(anchor)); err != nil || h != rep.Head {
			t.Fatalf("anchor %s is not the head %v (%v)", anchor, rep.Head, err)
		}
		if fi, err := os.Stat(anchorPath); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("anchor mode: %v, %v", fi.Mode(), err)
		}
		kept, n := entries(t, db), rep.Entries
		mid := n / 2

		cases := []struct {
			name   string
			tamper func(t *testing.T)
			seq    int64
			reason string
			heads  []audit.Head // kept elsewhere by the operator
		}{
			{"delete the newest entries", func(t *testing.T) {
				db.Exec(ctx, `DELETE FROM audit_log WHERE seq > ?`, n-2)
			}, n - 1, "truncated", nil},
			{"delete every entry", func(t *testing.T) {
				db.Exec(ctx, `DELETE FROM audit_log`)
			}, 1, "truncated", nil},
			{"rewrite an entry, then the plain chain after it", func(t *testing.T) {
				db.Exec(ctx, `UPDATE audit_log SET actor = 'mallory' WHERE seq = ?`, mid)
				rechainPlain(t, db, mid, kept[mid-1].KeyID)
			}, mid, "changed", nil},
			{"rewrite an entry as if it predated keys", func(t *testing.T) {
				db.Exec(ctx, `UPDATE audit_log SET details = '{}' WHERE seq = ?`, mid)
				rechainPlain(t, db, mid, "")
			}, mid, "no key", nil},
			{"claim a key the server does not hold", func(t *testing.T) {
				db.Exec(ctx, `UPDATE audit_log SET key_id = 'deadbeef' WHERE seq = ?`, mid)
			}, mid, "does not hold", nil},
			{"truncate the log and its anchor", func(t *testing.T) {
				db.Exec(ctx, `DELETE FROM audit_log WHERE seq > ?`, mid)
				e := kept[mid-1]
				os.WriteFile(anchorPath, []byte(audit.Head{Seq: e.Seq, MAC: e.MAC}.String()), 0o600)
			}, mid + 1, "truncated", []audit.Head{rep.Head}},
			{"remove the anchor", func(t *testing.T) {
				os.Remove(anchorPath)
			}, n, "anchor file", nil},
		}
		for _, tc := range cases {
			tc.tamper(t)
			_, err := log.Verify(ctx, tc.heads...)
			wantBroken(t, err, tc.seq, tc.reason)
			restore(t, db, kept, anchorPath, anchor)
			if _, err := log.Verify(ctx, rep.Head); err != nil {
				t.Fatalf("after %s, restored: %v", tc.name, err)
			}
		}

		// An external head from earlier holds while the log grows past it.
		s.SignUp(t, "bea")
		if rep2, err := log.Verify(ctx, rep.Head); err != nil || rep2.Entries <= n || rep2.Anchors != 2 {
			t.Fatalf("grown log: %+v, %v", rep2, err)
		}
		// Another writer (an admin command) and the server take turns; the
		// anchor follows both.
		log.Record(ctx, audit.Actor{}, "test.other_writer", "audit:test", nil)
		s.SignUp(t, "cai")
		rep3, err := log.Verify(ctx)
		if got, _ := os.ReadFile(anchorPath); err != nil || !strings.Contains(string(got), rep3.Head.MAC) {
			t.Fatalf("anchor %s after two writers, head %v: %v", got, rep3.Head, err)
		}
	})
}

// A server whose log was truncated leaves its anchor where it was, so
// new entries do not hide the removal.
func TestAnchorKeepsEvidence(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		busy(t, s)
		log := serverLog(t, s)
		rep, err := log.Verify(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.App.DB.Exec(t.Context(), `DELETE FROM audit_log WHERE seq > ?`, rep.Entries-3); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"dan", "eve", "fay", "gus"} {
			s.SignUp(t, name) // the log grows past where it was cut
		}
		_, err = log.Verify(t.Context())
		wantBroken(t, err, rep.Entries, "rewritten")
	})
}

// makeLegacy turns the log into what an install before keyed chains
// wrote: unkeyed SHA-256 sums, and no anchor.
func makeLegacy(t *testing.T, s *testserver.Server) {
	t.Helper()
	rechainPlain(t, s.App.DB, 1, "")
	if err := os.Remove(filepath.Join(s.App.Config.DataDir, audit.AnchorFile)); err != nil {
		t.Fatal(err)
	}
}

func TestLegacyLogRechainedOnce(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		busy(t, s)
		n := int64(len(entries(t, s.App.DB)))
		makeLegacy(t, s)
		log := serverLog(t, s) // opening re-chains it
		rep, err := log.Verify(t.Context())
		if err != nil || rep.Entries != n+1 {
			t.Fatalf("re-chained log: %+v, %v", rep, err)
		}
		es := entries(t, s.App.DB)
		if last := es[len(es)-1]; last.Action != "audit.rechain" || !strings.Contains(last.Details, `"entries":`+strconv.FormatInt(n, 10)) {
			t.Fatalf("the re-chaining is not noted: %+v", last)
		}
		// Unkeyed entries after that are an attacker's, not history.
		rechainPlain(t, s.App.DB, 1, "")
		log = serverLog(t, s)
		_, err = log.Verify(t.Context())
		wantBroken(t, err, 1, "no key")
	})
}

func TestLegacyLogBrokenIsNotRechained(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		busy(t, s)
		makeLegacy(t, s)
		if _, err := s.App.DB.Exec(t.Context(), `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		_, err := serverLog(t, s).Verify(t.Context())
		wantBroken(t, err, 1, "no key")
	})
}

func TestRechainAfterKeyRotation(t *testing.T) {
	testserver.Each(t, func(t *testing.T, s *testserver.Server) {
		busy(t, s)
		old := serverKeys(t, s)
		cur := make([]byte, seal.KeySize)
		rand.Read(cur)
		oldKey, err := os.ReadFile(filepath.Join(s.App.Config.DataDir, "master.key"))
		if err != nil {
			t.Fatal(err)
		}
		both, err := seal.NewKeyring(cur, oldKey)
		if err != nil || both.Current() == old.Current() {
			t.Fatal(err)
		}
		only, _ := seal.NewKeyring(cur)
		open := func(k *seal.Keyring) *audit.Log {
			l, err := audit.OpenInstall(t.Context(), s.App.DB, k, s.App.Config.DataDir)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		// Before re-chaining, old entries need the old key.
		if _, err := open(both).Verify(t.Context()); err != nil {
			t.Fatalf("old entries under the rotated keyring: %v", err)
		}
		_, err = open(only).Verify(t.Context())
		wantBroken(t, err, 1, "does not hold")

		n, head, err := open(both).Rechain(t.Context())
		if err != nil || n == 0 {
			t.Fatalf("rechain: %d, %v", n, err)
		}
		rep, err := open(only).Verify(t.Context())
		if err != nil || rep.Entries != n+1 || rep.Head.Seq != head.Seq+1 {
			t.Fatalf("after re-chaining, under the new key alone: %+v (head %v), %v", rep, head, err)
		}
		// A broken chain is not re-chained: that would launder the edit.
		if _, err := s.App.DB.Exec(t.Context(), `UPDATE audit_log SET actor = 'mallory' WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		if _, _, err := open(both).Rechain(t.Context()); err == nil {
			t.Fatal("a tampered log was re-chained")
		}
	})
}

func TestParseHead(t *testing.T) {
	mac := strings.Repeat("ab", 32)
	for in, want := range map[string]bool{
		"12:" + mac:                           true,
		" 12:" + mac + "\n":                   true,
		`{"seq":12,"mac":"` + mac + `"}`:      true,
		`{"seq":0,"mac":""}`:                  true,
		"0:" + mac:                            false,
		"12:" + mac[:63]:                      false,
		"-1:" + mac:                           false,
		`{"seq":12,"mac":"zz"}`:               false,
		"12:" + strings.ToUpper(mac):          false,
		"":                                    false,
		"99999999999999999999999:" + mac:      false,
		`{"seq":-4,"mac":"` + mac + `"}`:      false,
		"12:" + mac + ":" + mac:               false,
		`{"seq":12,"mac":"` + mac + `"} junk`: false,
	} {
		if _, err := audit.ParseHead(in); (err == nil) != want {
			t.Errorf("ParseHead(%q) = %v, want ok %v", in, err, want)
		}
	}
}

func FuzzParseHead(f *testing.F) {
	f.Add("12:" + strings.Repeat("0f", 32))
	f.Add(`{"seq":3,"mac":"` + strings.Repeat("a", 64) + `"}`)
	f.Fuzz(func(t *testing.T, s string) {
		h, err := audit.ParseHead(s)
		if err != nil {
			return
		}
		again, err := audit.ParseHead(h.String())
		if h.Seq > 0 && (err != nil || again != h) {
			t.Fatalf("%q parsed as %v, which does not read back: %v", s, h, err)
		}
		if bytes.ContainsAny([]byte(h.MAC), "\n:") {
			t.Fatalf("mac %q", h.MAC)
		}
	})
}
