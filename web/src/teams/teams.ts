// Team roles and the queries every team screen shares.
import { queryOptions } from "@tanstack/react-query";
import { api, type Team, type TeamRole } from "@/lib/api";

const rank: Record<TeamRole, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** Whether role is at least min (owner > admin > member > viewer). */
export function atLeast(role: TeamRole | undefined, min: TeamRole): boolean {
  return role !== undefined && rank[role] >= rank[min];
}

/** The names of the teams a person may create (or move) projects in: member and up. */
export function creatableIn(teams: Team[] | undefined): string[] {
  return (teams ?? []).filter((t) => atLeast(t.role, "member")).map((t) => t.name);
}

export const teamRoleLabels: Record<TeamRole, string> = { owner: "Owner", admin: "Admin", member: "Member", viewer: "Viewer" };

/** What each role may do, in a few words, for pickers. */
export const teamRoleHints: Record<TeamRole, string> = {
  owner: "everything, including owners and deleting the team",
  admin: "manages people, secrets, the audit log and the allowlist",
  member: "creates and edits the team's projects",
  viewer: "sees the team's projects, changes nothing",
};

/** The roles someone with role may hand out: only owners make owners. */
export function grantableRoles(role: TeamRole | undefined): TeamRole[] {
  if (role === "owner") return ["owner", "admin", "member", "viewer"];
  if (role === "admin") return ["admin", "member", "viewer"];
  return [];
}

export const teamsQuery = queryOptions({ queryKey: ["teams"], queryFn: api.teams });
export const teamQuery = (team: string) => queryOptions({ queryKey: ["teams", team], queryFn: () => api.team(team) });
export const teamMembersQuery = (team: string) =>
  queryOptions({ queryKey: ["teams", team, "members"], queryFn: () => api.teamMembers(team) });
// Under ["projects"], so whatever refreshes the dashboard's projects refreshes a team's too.
export const teamProjectsQuery = (team: string) =>
  queryOptions({ queryKey: ["projects", "team", team], queryFn: () => api.teamProjects(team) });
