// Package project is projects and their files: metadata in the platform
// database, the working tree on disk under the data dir as a git
// repository, and the file operations the editor and API use on it.
package project

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"ecode/internal/access"
	"ecode/internal/errs"
)

// Visibility of a project.
const (
	Private = "private"
	Public  = "public"
)

// Project is a project as the API shows it.
type Project struct {
	ID         string `json:"id" db:"id"`
	OwnerID    string `json:"-" db:"owner_id"`
	Owner      string `json:"owner" db:"owner"`
	OwnerKind  string `json:"ownerKind" db:"owner_kind"` // "user" or "team"
	Slug       string `json:"slug" db:"slug"`
	Name       string `json:"name" db:"name"`
	Visibility string `json:"visibility" db:"visibility"`
	Template   string `json:"template" db:"template"`
	Internet   bool   `json:"internet" db:"internet"` // the sandbox may reach any public host
	CreatedAt  int64  `json:"createdAt" db:"created_at"`
	UpdatedAt  int64  `json:"updatedAt" db:"updated_at"`
	URL        string `json:"url" db:"-"`
	CanEdit    bool   `json:"canEdit" db:"-"`
	Role       string `json:"role" db:"role"` // the caller's: owner, admin (of its team), editor, viewer, or "" for a public project's visitor
}

// TeamOwned is an owner kind: the project is a team's.
const TeamOwned = "team"

// TeamID is the id of the team that owns p, or "" for a person's project.
func (p *Project) TeamID() string {
	if p.OwnerKind == TeamOwned {
		return p.OwnerID
	}
	return ""
}

// Access is what the authorization layer needs to know of p, as the
// caller whose Role it carries sees it.
func (p *Project) Access() access.Project {
	return access.Project{ID: p.ID, OwnerID: p.OwnerID, TeamID: p.TeamID(), Public: p.Visibility == Public, Role: p.Role}
}

const maxName = 64

// checkName trims and validates a project name.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxName || strings.ContainsAny(name, "\x00\n\r\t") {
		return "", errs.Invalid("invalid_name", "A project name is 1 to %d characters on one line.", maxName)
	}
	if Slugify(name) == "" {
		return "", errs.Invalid("invalid_name", "A project name needs at least one letter or digit.")
	}
	return name, nil
}

func checkVisibility(v string) error {
	if v != Private && v != Public {
		return errs.Invalid("invalid_visibility", "Visibility is %q or %q.", Private, Public)
	}
	return nil
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// Slugify makes the URL name of a project from its name: lowercase ASCII
// letters and digits joined by single dashes, at most 48 characters.
func Slugify(name string) string {
	s := nonSlug.ReplaceAllString(strings.ToLower(name), "-")
	s = strings.Trim(s, "-")
	if len(s) > 48 {
		s = strings.TrimRight(s[:48], "-")
	}
	return s
}
