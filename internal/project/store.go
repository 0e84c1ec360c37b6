package project

import (
	"context"
	"fmt"
	"strings"

	"ecode/internal/errs"
	"ecode/internal/store"
)

const projectCols = `p.id, p.owner_id, u.username AS owner, u.kind AS owner_kind, p.slug, p.name, p.visibility, p.template, p.internet, p.created_at, p.updated_at`
const projectFrom = ` FROM projects p JOIN users u ON u.id = p.owner_id `

func errSlugTaken(slug string) error {
	return errs.Conflict("project_exists", "You already have a project at /%s; choose another name.", slug)
}

func insertProject(ctx context.Context, db *store.DB, p *Project) error {
	_, err := db.Exec(ctx, `INSERT INTO projects (id, owner_id, slug, name, visibility, template, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, p.OwnerID, p.Slug, p.Name, p.Visibility, p.Template, p.CreatedAt, p.UpdatedAt)
	if store.IsUnique(err) {
		return errSlugTaken(p.Slug)
	}
	if err != nil {
		return fmt.Errorf("insert project: %w", err)
	}
	return nil
}

func slugTaken(ctx context.Context, db *store.DB, ownerID, slug string) (bool, error) {
	var n int
	if err := db.Get(ctx, &n, `SELECT COUNT(*) FROM projects WHERE owner_id = ? AND slug = ?`, ownerID, slug); err != nil {
		return false, fmt.Errorf("check slug: %w", err)
	}
	return n > 0, nil
}

func getProject(ctx context.Context, db *store.DB, where string, args ...any) (*Project, error) {
	var p Project
	err := db.Get(ctx, &p, `SELECT `+projectCols+projectFrom+`WHERE `+where, args...)
	if store.NoRows(err) {
		return nil, errs.NotFound("not_found", "No such project, or you do not have access to it.")
	}
	if err != nil {
		return nil, fmt.Errorf("get project: %w", err)
	}
	return &p, nil
}

func projectByID(ctx context.Context, db *store.DB, id string) (*Project, error) {
	return getProject(ctx, db, `p.id = ?`, id)
}

func projectBySlug(ctx context.Context, db *store.DB, owner, slug string) (*Project, error) {
	return getProject(ctx, db, `u.username = ? AND p.slug = ?`, owner, slug)
}

func listProjects(ctx context.Context, db *store.DB, ownerID string) ([]*Project, error) {
	out := []*Project{}
	err := db.Select(ctx, &out, `SELECT `+projectCols+projectFrom+`WHERE p.owner_id = ? ORDER BY p.updated_at DESC, p.id DESC`, ownerID)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// listOwnedSeenBy lists account ownerID's projects with userID's
// collaborator role in each.
func listOwnedSeenBy(ctx context.Context, db *store.DB, ownerID, userID string) ([]*Project, error) {
	out := []*Project{}
	err := db.Select(ctx, &out, `SELECT `+projectCols+`, COALESCE(m.role, '') AS role`+projectFrom+`
		LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = ?
		WHERE p.owner_id = ? ORDER BY p.updated_at DESC, p.id DESC`, userID, ownerID)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// listVisibleTo lists the projects userID owns or collaborates on, and
// those of the teams (by id) userID is in, with userID's collaborator role
// in each.
func listVisibleTo(ctx context.Context, db *store.DB, userID string, teams []string) ([]*Project, error) {
	out := []*Project{}
	args := []any{userID, userID}
	ofTeams := ""
	if len(teams) > 0 {
		ofTeams = ` OR p.owner_id IN (?` + strings.Repeat(`, ?`, len(teams)-1) + `)`
		for _, t := range teams {
			args = append(args, t)
		}
	}
	err := db.Select(ctx, &out, `SELECT `+projectCols+`, COALESCE(m.role, '') AS role`+projectFrom+`
		LEFT JOIN project_members m ON m.project_id = p.id AND m.user_id = ?
		WHERE p.owner_id = ? OR m.user_id IS NOT NULL`+ofTeams+` ORDER BY p.updated_at DESC, p.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	return out, nil
}

// account is a person or a team, as a project's owner.
type account struct {
	ID   string `db:"id"`
	Name string `db:"username"`
	Kind string `db:"kind"`
}

func accountByName(ctx context.Context, db *store.DB, name string) (*account, error) {
	var a account
	err := db.Get(ctx, &a, `SELECT id, username, kind FROM users WHERE username = ?`, strings.ToLower(strings.TrimSpace(name)))
	if store.NoRows(err) {
		return nil, errs.NotFound("owner_not_found", "There is no team called %q.", name)
	}
	if err != nil {
		return nil, fmt.Errorf("find owner: %w", err)
	}
	return &a, nil
}

func updateProject(ctx context.Context, db *store.DB, p *Project) error {
	_, err := db.Exec(ctx, `UPDATE projects SET slug = ?, name = ?, visibility = ?, internet = ?, updated_at = ? WHERE id = ?`,
		p.Slug, p.Name, p.Visibility, p.Internet, p.UpdatedAt, p.ID)
	if store.IsUnique(err) {
		return errSlugTaken(p.Slug)
	}
	if err != nil {
		return fmt.Errorf("update project: %w", err)
	}
	return nil
}

func moveProject(ctx context.Context, db *store.DB, p *Project) error {
	_, err := db.Exec(ctx, `UPDATE projects SET owner_id = ?, updated_at = ? WHERE id = ?`, p.OwnerID, p.UpdatedAt, p.ID)
	if store.IsUnique(err) {
		return errs.Conflict("project_exists", "%s already has a project at /%s; rename this one first.", p.Owner, p.Slug)
	}
	if err != nil {
		return fmt.Errorf("transfer project: %w", err)
	}
	return nil
}

func touchProject(ctx context.Context, db *store.DB, id string, at int64) error {
	_, err := db.Exec(ctx, `UPDATE projects SET updated_at = ? WHERE id = ?`, at, id)
	return err
}

func deleteProject(ctx context.Context, db *store.DB, id string) error {
	if _, err := db.Exec(ctx, `DELETE FROM projects WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete project: %w", err)
	}
	return nil
}
