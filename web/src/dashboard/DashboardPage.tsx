import { useQuery } from "@tanstack/react-query";
import { FolderPlus, Plus } from "lucide-react";
import { useState } from "react";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading } from "@/components/ui/spinner";
import { NewProjectDialog } from "./NewProjectDialog";
import { ProjectList } from "./ProjectList";
import { projectsQuery } from "./projects";

export function DashboardPage() {
  const projects = useQuery(projectsQuery);
  const [creating, setCreating] = useState(false);

  return (
    <AppShell>
      <div className="mb-6 flex items-center justify-between gap-4">
        <h1 className="text-xl font-semibold">Projects</h1>
        <Button variant="primary" onClick={() => setCreating(true)}>
          <Plus /> New project
        </Button>
      </div>
      {projects.isPending && <Loading label="Loading projects" />}
      {projects.isError && <ErrorState error={projects.error} onRetry={() => void projects.refetch()} />}
      {projects.data?.length === 0 && (
        <EmptyState
          icon={FolderPlus}
          title="No projects yet"
          className="rounded-lg border border-dashed border-border py-16"
          action={
            <Button variant="primary" onClick={() => setCreating(true)}>
              <Plus /> Create your first project
            </Button>
          }
        >
          Pick a template and you'll be editing code in seconds.
        </EmptyState>
      )}
      {projects.data && projects.data.length > 0 && <ProjectList projects={projects.data} />}
      <NewProjectDialog open={creating} onOpenChange={setCreating} />
    </AppShell>
  );
}
