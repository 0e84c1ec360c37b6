package team_test

import (
	"bytes"
	"context"
	"testing"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/events"
	"ecode/internal/project"
	"ecode/internal/seal"
	"ecode/internal/secrets"
	"ecode/internal/store/testdb"
	"ecode/internal/team"
	"ecode/templates"
)

// A team is created in one unit of work: when its last step fails, neither
// its account (the name) nor its row is left behind, and the name is free.
func TestCreateFailingPartWayLeavesNothing(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, e)
			ctx := context.Background()
			catalog, err := project.NewCatalog(templates.FS)
			if err != nil {
				t.Fatal(err)
			}
			bus := events.New()
			roles := access.NewResolver(db)
			accounts := auth.NewService(db, nil, auth.Options{})
			projects, err := project.NewService(db, bus, roles, accounts, nil, project.Options{DataDir: t.TempDir(), Templates: catalog})
			if err != nil {
				t.Fatal(err)
			}
			keys, err := seal.NewKeyring(bytes.Repeat([]byte{1}, seal.KeySize))
			if err != nil {
				t.Fatal(err)
			}
			teams := team.NewService(db, bus, roles, accounts, projects, secrets.NewService(db, keys, projects, roles, nil), nil)

			// The owner's membership, the last step, fails: there is no such account.
			ghost := &auth.User{ID: "01ghost00000000000000000000", Username: "ghost"}
			if _, err := teams.Create(ctx, ghost, "crew", "Crew"); err == nil {
				t.Fatal("a team was made for an account that does not exist")
			}
			for table, query := range map[string]string{
				"users": `SELECT COUNT(*) FROM users WHERE username = 'crew'`,
				"teams": `SELECT COUNT(*) FROM teams`,
			} {
				var n int
				if err := db.Get(ctx, &n, query); err != nil || n != 0 {
					t.Errorf("%s after the failed creation: %d rows, %v", table, n, err)
				}
			}

			owner, err := accounts.CreateUser(ctx, "olga", "olga@example.com", "password-olga")
			if err != nil {
				t.Fatal(err)
			}
			made, err := teams.Create(ctx, owner, "crew", "Crew")
			if err != nil {
				t.Fatalf("the name stayed taken: %v", err)
			}
			if made.Role != "owner" || made.Members != 1 {
				t.Fatalf("created %+v", made)
			}
		})
	}
}
