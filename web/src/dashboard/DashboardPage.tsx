import { useQuery } from "@tanstack/react-query";
import { useMe } from "@/auth/session";
import { roleIn } from "@/collab/members";
import { FolderPlus, Plus, Sparkles } from "lucide-react";
import { useState } from "react";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading } from "@/components/ui/spinner";
import type { Project } from "@/lib/api";
import { TeamProjectGroups, TeamsSection } from "@/teams/TeamsSection";
import { teamsQuery } from "@/teams/teams";
import { BuildWithAIDialog } from "./BuildWithAIDialog";
import { NewProjectDialog } from "./NewProjectDialog";
import { ProjectList, SharedProjectList } from "./ProjectList";
import { projectsQuery } from "./projects";

export function DashboardPage() {
  const projects = useQuery(projectsQuery);
  const me = useMe().data;
  const teams = useQuery(teamsQuery);
  // A team's projects are grouped under it; a project of a team the person isn't in was shared with them.
  const inMyTeam = (p: Project) => p.ownerKind === "team" && (!teams.data || teams.data.some((t) => t.name === p.owner));
  const own = projects.data?.filter((p) => !inMyTeam(p) && roleIn(p, me) === "owner");
  const team = projects.data?.filter(inMyTeam);
  const shared = projects.data?.filter((p) => !inMyTeam(p) && roleIn(p, me) !== "owner");
  const [creating, setCreating] = useState(false);
  const [building, setBuilding] = useState(false);
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
      {projects.isPending && <Loading label="Loading projects" />}
      {projects.isError && <ErrorState error={projects.error} onRetry={() => void projects.refetch()} />}
      {own?.length === 0 && team?.length === 0 && (
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
      <BuildWithAIDialog open={building} onOpenChange={setBuilding} />
    </AppShell>
  );
}
