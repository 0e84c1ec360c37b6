import { queryOptions, useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { api, errorMessage, type Project, type Visibility } from "@/lib/api";

export const projectsQuery = queryOptions({ queryKey: ["projects"], queryFn: api.listProjects });
export const templatesQuery = queryOptions({ queryKey: ["templates"], queryFn: api.templates, staleTime: Infinity });

/** Keeps every cached copy of a project (the list and its workspace) in step after a change. */
export function useProjectCache() {
  const qc = useQueryClient();
  return {
    updated(p: Project) {
      qc.setQueryData(projectsQuery.queryKey, (list) => list?.map((x) => (x.id === p.id ? p : x)));
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
