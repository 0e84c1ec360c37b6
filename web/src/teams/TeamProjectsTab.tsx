import { useQuery } from "@tanstack/react-query";
import { FolderPlus, Plus } from "lucide-react";
import { useState } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading } from "@/components/ui/spinner";
import { NewProjectDialog } from "@/dashboard/NewProjectDialog";
import { ProjectList } from "@/dashboard/ProjectList";
import type { Team } from "@/lib/api";
import { atLeast, teamProjectsQuery } from "./teams";

/** The team's projects; members and up start new ones here. */
export function TeamProjectsTab({ team }: { team: Team }) {
  const projects = useQuery(teamProjectsQuery(team.name));
  const [creating, setCreating] = useState(false);
  const canCreate = atLeast(team.role, "member");
  const create = (
    <Button variant="primary" onClick={() => setCreating(true)}>
      <Plus /> New project
    </Button>
  );
  return (
    <section aria-labelledby="team-projects-heading" className="grid gap-3">
      <div className="flex items-center justify-between gap-4">
        <h2 id="team-projects-heading" className="text-base font-semibold">
          Projects
        </h2>
        {canCreate && create}
      </div>
      {projects.isPending && <Loading label="Loading projects" />}
      {projects.isError && <ErrorState error={projects.error} onRetry={() => void projects.refetch()} />}
      {projects.data?.length === 0 && (
        <EmptyState icon={FolderPlus} title="No projects yet" className="rounded-lg border border-dashed border-border py-12" action={canCreate && create}>
          {canCreate
            ? "Projects made here belong to the team: every member can edit them, and its admins manage them."
            : "When the team's members create projects, you'll find them here."}
        </EmptyState>
      )}
      {projects.data && projects.data.length > 0 && <ProjectList projects={projects.data} label={`Projects of ${team.name}`} />}
      {canCreate && <NewProjectDialog open={creating} onOpenChange={setCreating} owner={team.name} />}
    </section>
  );
}
