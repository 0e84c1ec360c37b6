import { useQuery } from "@tanstack/react-query";
import { useMe } from "@/auth/session";
import { roleIn } from "@/collab/members";
import { FolderPlus, Plus, Search, Sparkles, X } from "lucide-react";
import { useEffect, useState } from "react";
import { useSearchParams } from "react-router";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Input, Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Loading } from "@/components/ui/spinner";
import type { Project } from "@/lib/api";
import { forgetPrompt, keptPrompt } from "@/landing/pendingBuild";
import { TeamProjectGroups, TeamsSection } from "@/teams/TeamsSection";
import { teamsQuery } from "@/teams/teams";
import { arrangeProjects, projectSorts, type ProjectSort } from "./arrange";
import { BuildWithAIDialog } from "./BuildWithAIDialog";
import { NewProjectDialog } from "./NewProjectDialog";
import { ProjectList, SharedProjectList } from "./ProjectList";
import { projectsQuery } from "./projects";

export function DashboardPage() {
  const projects = useQuery(projectsQuery);
  const me = useMe().data;
  const [query, setQuery] = useState("");
  const [sort, setSort] = useRememberedSort();
  const shown = projects.data && arrangeProjects(projects.data, query, sort);
  const filtering = query.trim() !== "";
  const teams = useQuery(teamsQuery);
  // A team's projects are grouped under it; a project of a team the person isn't in was shared with them.
  const inMyTeam = (p: Project) => p.ownerKind === "team" && (!teams.data || teams.data.some((t) => t.name === p.owner));
  const own = shown?.filter((p) => !inMyTeam(p) && roleIn(p, me) === "owner");
  const team = shown?.filter(inMyTeam);
  const shared = shown?.filter((p) => !inMyTeam(p) && roleIn(p, me) !== "owner");
  const [creating, setCreating] = useState(false);
  // Arriving from the landing page's Build with AI (through sign-up): the dialog opens with the prompt kept.
  const [params, setParams] = useSearchParams();
  const [pendingPrompt] = useState(() => (params.has("build") ? keptPrompt() : ""));
  const [building, setBuilding] = useState(() => params.has("build"));
  useEffect(() => {
    if (!params.has("build")) return;
    forgetPrompt();
    setParams({}, { replace: true });
  }, [params, setParams]);
  const buildWithAI = (
    <Button onClick={() => setBuilding(true)}>
      <Sparkles className="text-primary" /> Build with AI
    </Button>
  );

  return (
    <AppShell>
      <div className="mb-6 flex items-center justify-between gap-4">
        <h1 className="text-xl font-semibold">Projects</h1>
        <div className="flex items-center gap-2">
          {buildWithAI}
          <Button variant="primary" onClick={() => setCreating(true)}>
            <Plus /> New project
          </Button>
        </div>
      </div>
      {projects.data && projects.data.length > 0 && (
        <div className="mb-4 flex flex-wrap items-center gap-2">
          <div className="relative min-w-48 flex-1">
            <Search className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground" aria-hidden />
            <Input
              type="search"
              aria-label="Search projects"
              placeholder="Search projects by name, owner or language"
              autoComplete="off"
              spellCheck={false}
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              onKeyDown={(e) => e.key === "Escape" && setQuery("")}
              className="pl-8"
            />
          </div>
          <Label htmlFor="project-sort" className="text-xs text-muted-foreground">
            Sort by
          </Label>
          <Select id="project-sort" value={sort} onChange={(e) => setSort(e.target.value as ProjectSort)} className="w-auto">
            {projectSorts.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </Select>
        </div>
      )}
      {projects.isPending && <Loading label="Loading projects" />}
      {projects.isError && <ErrorState error={projects.error} onRetry={() => void projects.refetch()} />}
      {filtering && shown?.length === 0 && (
        <EmptyState icon={Search} title={`No projects match “${query.trim()}”`} className="rounded-lg border border-dashed border-border py-12">
          <Button variant="ghost" size="sm" onClick={() => setQuery("")}>
            <X /> Clear search
          </Button>
        </EmptyState>
      )}
      {!filtering && own?.length === 0 && team?.length === 0 && (
        <EmptyState
          icon={FolderPlus}
          title="No projects yet"
          className="rounded-lg border border-dashed border-border py-16"
          action={
            <div className="flex flex-wrap justify-center gap-2">
              <Button variant="primary" onClick={() => setCreating(true)}>
                <Plus /> Create your first project
              </Button>
              {buildWithAI}
            </div>
          }
        >
          Pick a template and you'll be editing code in seconds, or describe an app and let the AI agent build it.
        </EmptyState>
      )}
      {own && own.length > 0 && <ProjectList projects={own} />}
      {team && team.length > 0 && <TeamProjectGroups projects={team} />}
      {shared && shared.length > 0 && (
        <section aria-labelledby="shared-heading" className="mt-8">
          <h2 id="shared-heading" className="mb-3 text-base font-semibold">
            Shared with you
          </h2>
          <SharedProjectList projects={shared} />
        </section>
      )}
      <TeamsSection />
      <NewProjectDialog open={creating} onOpenChange={setCreating} />
      <BuildWithAIDialog open={building} onOpenChange={setBuilding} initialPrompt={pendingPrompt} />
    </AppShell>
  );
}

const sortKey = "ecode.dashboard.sort";

/** The list's order, remembered in this browser. */
function useRememberedSort() {
  const [sort, setSort] = useState<ProjectSort>(() => {
    const stored = localStorage.getItem(sortKey);
    return projectSorts.find((s) => s.id === stored)?.id ?? "edited";
  });
  const remember = (next: ProjectSort) => {
    setSort(next);
    try {
      localStorage.setItem(sortKey, next);
    } catch {
      // Storage full or disabled: the order just isn't remembered.
    }
  };
  return [sort, remember] as const;
}
