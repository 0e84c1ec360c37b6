package access

import "ecode/internal/errs"

// Team roles, strongest first. An owner may do everything, including
// naming other owners and deleting the team; an admin manages members,
// links, secrets, the allowlist and the log, and administers every team
// project; a member creates projects and edits them all; a viewer sees.
const (
	TeamOwner  = "owner"
	TeamAdmin  = "admin"
	TeamMember = "member"
	TeamViewer = "viewer"
)

// TeamAction is what a caller wants to do to a team.
type TeamAction int

const (
	// SeeTeam: the team, its members and its projects.
	SeeTeam TeamAction = iota
	// CreateInTeam: make projects the team owns.
	CreateInTeam
	// ManageTeam: members, invite links, secrets, allowlist, the audit log.
	ManageTeam
	// OwnTeam: owners, and deleting the team.
	OwnTeam
)

var teamRank = map[string]int{TeamViewer: 1, TeamMember: 2, TeamAdmin: 3, TeamOwner: 4}

// needs is the weakest role that may do each action.
var needs = map[TeamAction]string{SeeTeam: TeamViewer, CreateInTeam: TeamMember, ManageTeam: TeamAdmin, OwnTeam: TeamOwner}

// ErrNoTeam is what someone outside a team is told of it, so that team
// names do not leak more than the namespace already does.
var ErrNoTeam = errs.NotFound("not_found", "No such team, or you are not in it.")

// ValidTeamRole reports whether role is a team role.
func ValidTeamRole(role string) bool { return teamRank[role] > 0 }

// CanTeam reports whether a member with role (or "" for none) may do a to
// the team.
func CanTeam(role string, a TeamAction) error {
	switch {
	case teamRank[role] == 0:
		return ErrNoTeam
	case teamRank[role] >= teamRank[needs[a]]:
		return nil
	case a == CreateInTeam:
		return errs.Forbidden("forbidden", "Viewers can't create projects in this team: ask an admin to make you a member.")
	case a == OwnTeam:
		return errs.Forbidden("forbidden", "Only the team's owners can do that.")
	default:
		return errs.Forbidden("forbidden", "Only the team's owners and admins can do that.")
	}
}

// Outranks reports whether role a is stronger than role b.
func Outranks(a, b string) bool { return teamRank[a] > teamRank[b] }

// ProjectRole is the role a team role gives on each of the team's projects.
func ProjectRole(teamRole string) string {
	switch teamRole {
	case TeamOwner, TeamAdmin:
		return Administrator
	case TeamMember:
		return Editor
	case TeamViewer:
		return Viewer
	}
	return ""
}
