// Package access is the one authorization layer: every handler, the
// workspace socket and the preview ask a Resolver (the person's role) and
// Can (the rule) before they touch a resource. A project is its owner's; the owner shares
// it with collaborators as editors (read and write) or viewers (read); a
// public project is readable by anyone. A team owns projects as a person
// does; its members' team roles decide what they may do to the team and
// to its projects.
package access

import (
	"ecode/internal/auth"
	"ecode/internal/errs"
)

// Action is what a caller wants to do to a resource.
type Action int

const (
	// Read: see the project and its files.
	Read Action = iota
	// Write: change files, run code.
	Write
	// Admin: rename, change visibility, share, delete.
	Admin
	// Watch: see what the project's people do live, such as their shells;
	// a member's right, which a public project's visitors do not have.
	Watch
)

// Roles a caller can have on a project besides owning it: a collaborator
// is an editor or a viewer; a team's owners and admins administer the
// team's projects, which is everything an owner may do.
const (
	Administrator = "admin"
	Editor        = "editor"
	Viewer        = "viewer"
)

// Project is what access needs to know about a project, as one caller
// sees it.
type Project struct {
	ID      string
	OwnerID string
	TeamID  string // the team that owns it (then OwnerID too), or ""
	Public  bool
	Role    string // the caller's role besides owning it: Administrator, Editor, Viewer or ""; a Resolver fills it
}

// ErrNotFound is what a caller who may not see a project is told, so that
// private names do not leak.
var ErrNotFound = errs.NotFound("not_found", "No such project, or you do not have access to it.")

// Can reports whether actor (nil when anonymous) may do a to p, as an error
// ready for the client: not found for what the actor may not even see,
// forbidden for what it may see but not change.
func Can(actor *auth.User, a Action, p Project) error {
	owner := actor != nil && (actor.ID == p.OwnerID || p.Role == Administrator)
	member := actor != nil && (p.Role == Editor || p.Role == Viewer)
	switch {
	case owner:
		return nil
	case member && (a == Read || a == Watch || a == Write && p.Role == Editor):
		return nil
	case member && a == Write:
		return errs.Forbidden("forbidden", "You can view this project but not change it: ask its owner to make you an editor.")
	case member:
		return errs.Forbidden("forbidden", "Only the project's owner can do that.")
	case !p.Public:
		return ErrNotFound
	case a == Read:
		return nil
	case a == Watch:
		return errs.Forbidden("forbidden", "Only the project's members can watch its shells.")
	case actor == nil:
		return errs.Unauthenticated("unauthenticated", "Log in to change this project.")
	default:
		return errs.Forbidden("forbidden", "You can view this project but not change it; fork it to make changes.")
	}
}

// Higher returns the stronger of two project roles.
func Higher(a, b string) string {
	if rank[b] > rank[a] {
		return b
	}
	return a
}

var rank = map[string]int{Viewer: 1, Editor: 2, Administrator: 3}
