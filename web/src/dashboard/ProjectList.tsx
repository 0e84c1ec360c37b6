import { useQueryClient } from "@tanstack/react-query";
import { Eye, Globe, Lock, LogOut, MoreHorizontal, Pencil, SquareArrowOutUpRight, Trash2, Users } from "lucide-react";
import { useState, type ReactNode } from "react";
import { Link, useNavigate } from "react-router";
import { toast } from "sonner";
import { LeaveProjectDialog } from "@/collab/LeaveProjectDialog";
import { managesProject } from "@/collab/members";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/menu";
import { PromptDialog } from "@/components/ui/prompt-dialog";
import { api, type ListedProject, type Project } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { LanguageIcon } from "./LanguageIcon";
import { useProjectCache, useSetVisibility } from "./projects";

type Pending = { kind: "rename" | "delete"; project: Project } | null;

/**
 * Projects the person manages (their own; a team's, as its owner or admin) with
 * rename, visibility and delete; a team's other projects are listed with their role.
 */
export function ProjectList({ projects, label = "Your projects" }: { projects: Project[]; label?: string }) {
  const [pending, setPending] = useState<Pending>(null);
  const cache = useProjectCache();
  const qc = useQueryClient();
  const close = (open: boolean) => !open && setPending(null);

  return (
    <>
      <ul aria-label={label} className="divide-y divide-border rounded-lg border border-border bg-panel">
        {projects.map((p) =>
          !p.role || managesProject(p.role) ? (
            <ProjectRow key={p.id} project={p} onRename={() => setPending({ kind: "rename", project: p })} onDelete={() => setPending({ kind: "delete", project: p })} />
          ) : (
            <li key={p.id} className="flex items-center gap-3 px-4 py-3 hover:bg-muted/50" data-testid="project-row">
              <ProjectTitle project={p} />
              <RoleBadge project={p} />
              <ProjectMenu project={p} />
            </li>
          ),
        )}
      </ul>
      <PromptDialog
        open={pending?.kind === "rename"}
        onOpenChange={close}
        title="Rename project"
        description="The project's URL changes with its name."
        label="Name"
        initialValue={pending?.project.name}
        submitLabel="Rename"
        onSubmit={async (name) => {
          if (!pending) return;
          const p = await api.updateProject(pending.project.id, { name });
          cache.updated(p);
          toast.success(`Renamed to ${p.name}`);
        }}
      />
      <ConfirmDialog
        open={pending?.kind === "delete"}
        onOpenChange={close}
        title={`Delete ${pending?.project.name ?? "project"}?`}
        description="The project and all its files are deleted for good. This can't be undone."
        confirmLabel="Delete project"
        destructive
        onConfirm={async () => {
          if (!pending) return;
          await api.deleteProject(pending.project.id);
          cache.removed(pending.project.id);
          // A team's list (on its page) is cached apart from the dashboard's.
          void qc.invalidateQueries({ queryKey: ["projects", "team"] });
          toast.success(`Deleted ${pending.project.name}`);
        }}
      />
    </>
  );
}

function ProjectRow({ project: p, onRename, onDelete }: { project: Project; onRename: () => void; onDelete: () => void }) {
  const setVisibility = useSetVisibility();
  const isPublic = p.visibility === "public";
  return (
    <li className="flex items-center gap-3 px-4 py-3 hover:bg-muted/50" data-testid="project-row">
      <ProjectTitle project={p} />
      <Badge aria-label={`Visibility: ${p.visibility}`}>
        {isPublic ? <Globe aria-hidden /> : <Lock aria-hidden />}
        {isPublic ? "Public" : "Private"}
      </Badge>
      <ProjectMenu project={p}>
        <DropdownMenuItem onSelect={onRename}>
          <Pencil /> Rename…
        </DropdownMenuItem>
        <DropdownMenuItem
          disabled={setVisibility.isPending}
          onSelect={() => setVisibility.mutate({ id: p.id, visibility: isPublic ? "private" : "public" })}
        >
          {isPublic ? <Lock /> : <Globe />}
          {isPublic ? "Make private" : "Make public"}
        </DropdownMenuItem>
        <DropdownMenuSeparator />
        <DropdownMenuItem destructive onSelect={onDelete}>
          <Trash2 /> Delete…
        </DropdownMenuItem>
      </ProjectMenu>
    </li>
  );
}

/** A project row's "…" menu: Open, then the given items. */
function ProjectMenu({ project: p, children }: { project: Project; children?: ReactNode }) {
  const navigate = useNavigate();
  return (
    <DropdownMenu>
      <DropdownMenuTrigger asChild>
        <Button variant="ghost" size="icon" aria-label={`Actions for ${p.name}`}>
          <MoreHorizontal />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent>
        <DropdownMenuItem onSelect={() => navigate(p.url)}>
          <SquareArrowOutUpRight /> Open
        </DropdownMenuItem>
        {children}
      </DropdownMenuContent>
    </DropdownMenu>
  );
}

/** Whether p came from the dashboard's list, which says its language, last edit and run state. */
function isListed(p: Project): p is ListedProject {
  return "lastEditedAt" in p;
}

/** A project's language mark, name (its link), where it lives, when it was last edited and whether it runs. */
function ProjectTitle({ project: p }: { project: Project }) {
  const listed = isListed(p) ? p : null;
  const edited = listed?.lastEditedAt ?? p.updatedAt;
  return (
    <>
      {listed && <LanguageIcon language={listed.language} className="size-7" />}
      <div className="min-w-0 flex-1">
        <Link to={p.url} className="block truncate font-medium hover:underline">
          {p.name}
        </Link>
        <p className="truncate text-xs text-muted-foreground">
          {p.owner}/{p.slug} ·{" "}
          <time dateTime={new Date(edited).toISOString()} title={formatDate(edited)} data-testid="project-edited">
            {listed ? "edited" : "updated"} {timeAgo(edited)}
          </time>
        </p>
      </div>
      {listed && <RunState running={listed.running} />}
    </>
  );
}

/** Running (green) or stopped, kept live by the list's polling. */
function RunState({ running }: { running: boolean }) {
  return (
    <span data-testid="project-run-state" className="inline-flex items-center gap-1.5 text-xs text-muted-foreground">
      <span aria-hidden className={running ? "size-2 rounded-full bg-run" : "size-2 rounded-full bg-muted-foreground/40"} />
      {running ? "Running" : "Stopped"}
    </span>
  );
}

/** The person's part in a project they don't manage. */
function RoleBadge({ project: p }: { project: Project }) {
  return (
    <Badge aria-label={`Your role: ${p.role || "reader"}`}>
      {p.role === "viewer" || !p.canEdit ? <Eye aria-hidden /> : <Users aria-hidden />}
      {p.role === "viewer" ? "Viewer" : p.role === "editor" ? "Editor" : "Reader"}
    </Badge>
  );
}

/** Projects other people shared with this person: open them, or leave. */
export function SharedProjectList({ projects }: { projects: Project[] }) {
  const [leaving, setLeaving] = useState<Project | null>(null);
  const cache = useProjectCache();
  return (
    <>
      <ul aria-label="Shared with you" className="divide-y divide-border rounded-lg border border-border bg-panel">
        {projects.map((p) => (
          <li key={p.id} className="flex items-center gap-3 px-4 py-3 hover:bg-muted/50" data-testid="shared-project-row">
            <ProjectTitle project={p} />
            <RoleBadge project={p} />
            {p.role && (
              <ProjectMenu project={p}>
                <DropdownMenuSeparator />
                <DropdownMenuItem destructive onSelect={() => setLeaving(p)}>
                  <LogOut /> Leave project…
                </DropdownMenuItem>
              </ProjectMenu>
            )}
          </li>
        ))}
      </ul>
      <LeaveProjectDialog project={leaving} onOpenChange={(open) => !open && setLeaving(null)} onLeft={(p) => cache.removed(p.id)} />
    </>
  );
}
