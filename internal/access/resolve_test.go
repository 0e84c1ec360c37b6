package access

import (
	"context"
	"testing"

	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/store"
	"ecode/internal/store/testdb"
)

// gate refuses the teams it maps to true, as an allowlist that leaves the caller out.
type gate map[string]bool

func (g gate) Admit(_ context.Context, teamID string) error {
	if g[teamID] {
		return errs.Forbidden("ip_not_allowed", "Not from here.")
	}
	return nil
}

func TestResolver(t *testing.T) {
	for _, e := range testdb.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, e)
			ctx := context.Background()
			now := store.Now()
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.Exec(ctx, q, args...); err != nil {
					t.Fatal(err)
				}
			}
			account := func(name, kind string) *auth.User {
				id := store.NewID()
				exec(`INSERT INTO users (id, username, email, password_hash, created_at, updated_at, kind) VALUES (?, ?, ?, '', ?, ?, ?)`,
					id, name, name+"@example.com", now, now, kind)
				return &auth.User{ID: id, Username: name}
			}
			own, vera, eddy, mia, tess, stan := account("own", "user"), account("vera", "user"), account("eddy", "user"),
				account("mia", "user"), account("tess", "user"), account("stan", "user")
			crew := account("crew", "team")
			exec(`INSERT INTO teams (id, display_name, created_by, created_at) VALUES (?, 'Crew', ?, ?)`, crew.ID, own.ID, now)
			for user, role := range map[string]string{own.ID: TeamOwner, mia.ID: TeamMember, tess.ID: TeamViewer, vera.ID: TeamAdmin} {
				exec(`INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`, crew.ID, user, role, now)
			}
			project := func(owner string) string {
				id := store.NewID()
				exec(`INSERT INTO projects (id, owner_id, slug, name, created_at, updated_at) VALUES (?, ?, ?, 'P', ?, ?)`, id, owner, id, now, now)
				return id
			}
			mine := Project{ID: project(own.ID), OwnerID: own.ID}
			theirs := Project{ID: project(crew.ID), OwnerID: crew.ID, TeamID: crew.ID}
			exec(`INSERT INTO project_members (project_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`, mine.ID, vera.ID, Viewer, now)
			exec(`INSERT INTO project_members (project_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`, mine.ID, eddy.ID, Editor, now)
			// tess is a team viewer, and an editor of the team's project itself: the stronger role counts.
			exec(`INSERT INTO project_members (project_id, user_id, role, created_at) VALUES (?, ?, ?, ?)`, theirs.ID, tess.ID, Editor, now)

			r := NewResolver(db)
			roles := []struct {
				who  *auth.User
				p    Project
				want string
			}{
				{own, mine, ""}, {vera, mine, Viewer}, {eddy, mine, Editor}, {mia, mine, ""}, {stan, mine, ""}, {nil, mine, ""},
				{own, theirs, Administrator}, {vera, theirs, Administrator}, {mia, theirs, Editor}, {tess, theirs, Editor},
				{eddy, theirs, ""}, {nil, theirs, ""},
			}
			for _, c := range roles {
				got, err := r.Role(ctx, c.who, c.p)
				if err != nil || got != c.want {
					t.Errorf("role of %v on %s: %q, %v; want %q", c.who, c.p.ID, got, err, c.want)
				}
			}

			// Project resolves and decides at once, and hands back the role.
			seen, err := r.Project(ctx, eddy, Write, mine)
			if err != nil || seen.Role != Editor {
				t.Errorf("editor writes: %+v, %v", seen, err)
			}
			if _, err := r.Project(ctx, vera, Write, mine); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("viewer writes: %v, want forbidden", err)
			}
			if _, err := r.Project(ctx, stan, Read, mine); err != ErrNotFound {
				t.Errorf("stranger reads: %v, want not found", err)
			}
			if _, err := r.Project(ctx, own, Admin, theirs); err != nil {
				t.Errorf("team owner administers: %v", err)
			}

			// A team's gate is asked before anything of the team: its projects,
			// whoever asks, and the team itself, of its members.
			refused := gate{crew.ID: true}
			r.Guard(refused)
			if _, err := r.Project(ctx, own, Read, theirs); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("refused address reads a team project: %v", err)
			}
			if _, err := r.Project(ctx, own, Admin, mine); err != nil {
				t.Errorf("a person's project is no team's to refuse: %v", err)
			}
			if _, err := r.Team(ctx, mia, crew.ID, SeeTeam); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("refused address sees the team: %v", err)
			}
			if _, err := r.Team(ctx, stan, crew.ID, SeeTeam); err != ErrNoTeam {
				t.Errorf("a stranger learns of the team from its gate: %v", err)
			}
			delete(refused, crew.ID)

			teams := []struct {
				who  *auth.User
				a    TeamAction
				role string
				err  error
			}{
				{mia, CreateInTeam, TeamMember, nil},
				{tess, SeeTeam, TeamViewer, nil},
				{vera, ManageTeam, TeamAdmin, nil},
				{own, OwnTeam, TeamOwner, nil},
				{stan, SeeTeam, "", ErrNoTeam},
				{nil, SeeTeam, "", auth.ErrUnauthenticated},
			}
			for _, c := range teams {
				role, err := r.Team(ctx, c.who, crew.ID, c.a)
				if role != c.role || err != c.err {
					t.Errorf("team %d as %v: %q, %v; want %q, %v", c.a, c.who, role, err, c.role, c.err)
				}
			}
			if _, err := r.Team(ctx, tess, crew.ID, CreateInTeam); !errs.Is(err, errs.KindForbidden) {
				t.Errorf("team viewer creates: %v, want forbidden", err)
			}
			all, err := r.TeamRoles(ctx, vera.ID)
			if err != nil || len(all) != 1 || all[crew.ID] != TeamAdmin {
				t.Errorf("vera's teams: %v, %v", all, err)
			}
		})
	}
}
