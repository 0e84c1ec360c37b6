import { queryOptions } from "@tanstack/react-query";
import { api, type Project, type ProjectRole, type User } from "@/lib/api";

export const membersQuery = (projectId: string) =>
  queryOptions({ queryKey: ["members", projectId], queryFn: () => api.members(projectId) });

/** The person's part in project; servers that predate roles only say canEdit, so the owner is read off the URL. */
export function roleIn(project: Project, me: User | null | undefined): ProjectRole | null {
  if (project.role) return project.role;
  return me && me.username === project.owner ? "owner" : null;
}

export const roleLabels: Record<ProjectRole, string> = { owner: "Owner", admin: "Admin", editor: "Editor", viewer: "Viewer" };

/** Whether role manages the project: its people, settings and deletion (a team's admins as its owner does). */
export function managesProject(role: ProjectRole | null | undefined): boolean {
  return role === "owner" || role === "admin";
}

/** How long an invite link lasts, as offered. */
export const inviteExpiries = [
  { hours: 24, label: "1 day" },
  { hours: 7 * 24, label: "7 days" },
  { hours: 30 * 24, label: "30 days" },
] as const;

/** An invite's path ("/invite/TOKEN") as a link to share. */
export const absoluteUrl = (path: string) => new URL(path, window.location.origin).toString();
