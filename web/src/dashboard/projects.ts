import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { api, errorMessage, type Project, type Visibility } from "@/lib/api";

// Polled while the dashboard is in sight, so run states and last edits stay live.
export const projectsQuery = queryOptions({ queryKey: ["projects"], queryFn: api.listProjects, refetchInterval: 5000 });
export const templatesQuery = queryOptions({ queryKey: ["templates"], queryFn: api.templates, staleTime: Infinity });

/** Keeps every cached copy of a project (the list and its workspace) in step after a change. */
export function useProjectCache() {
  const qc = useQueryClient();
  return {
    updated(p: Project) {
      qc.setQueryData(projectsQuery.queryKey, (list) => list?.map((x) => (x.id === p.id ? { ...x, ...p } : x)));
      void qc.invalidateQueries({ queryKey: projectsQuery.queryKey });
    },
    removed(id: string) {
      qc.setQueryData(projectsQuery.queryKey, (list) => list?.filter((x) => x.id !== id));
    },
  };
}

export function useSetVisibility() {
  const cache = useProjectCache();
  return useMutation({
    mutationFn: ({ id, visibility }: { id: string; visibility: Visibility }) => api.updateProject(id, { visibility }),
    onSuccess: (p) => {
      cache.updated(p);
      toast.success(`${p.name} is now ${p.visibility}`);
    },
    onError: (err) => toast.error("Couldn't change visibility", { description: errorMessage(err) }),
  });
}

/** Internet mode on or off; a running sandbox follows at once. */
export function useSetInternet() {
  const cache = useProjectCache();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, internet }: { id: string; internet: boolean }) => api.updateProject(id, { internet }),
    onSuccess: (p) => {
      cache.updated(p);
      qc.setQueryData(["project", p.owner, p.slug], p);
      toast.success(p.internet ? "The sandbox may now reach any public host" : "The sandbox now reaches package registries only");
    },
    onError: (err) => toast.error("Couldn't change internet access", { description: errorMessage(err) }),
  });
}
