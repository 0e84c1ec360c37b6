import { useMutation, useQuery, useQueryClient, type QueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { api, errorMessage, type DeploymentState, type Release } from "@/lib/api";

export const deploymentKey = (projectId: string) => ["deployment", projectId] as const;

/** A release still on its way: waiting its turn in the project's queue, or building. */
export const inProgress = (r: Release) => r.status === "queued" || r.status === "building";

/** The project's deployment and releases; looked at again every 2 s while one is on its way. */
export function useDeployment(projectId: string) {
  return useQuery({
    queryKey: deploymentKey(projectId),
    queryFn: () => api.deployment(projectId),
    refetchInterval: (q) => (q.state.data?.releases.some(inProgress) ? 2_000 : false),
  });
}

/** Puts a release (new or changed) into the cached listing, so the pane shows it before the next fetch. */
export function putRelease(qc: QueryClient, projectId: string, release: Release) {
  qc.setQueryData<DeploymentState>(deploymentKey(projectId), (d) => {
    if (!d) return d;
    const others = d.releases.filter((r) => r.id !== release.id);
    return { ...d, releases: [release, ...others].sort((a, b) => b.number - a.number) };
  });
}

/** Starts a release from the project as it is now; it queues behind any other of the project's. */
export function useDeploy(projectId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => api.deploy(projectId),
    onSuccess: (release) => {
      putRelease(qc, projectId, release);
      void qc.invalidateQueries({ queryKey: deploymentKey(projectId) });
    },
  });
}

/** Cancels a queued or building release; the live one stays. */
export function useCancelRelease(projectId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (releaseId: string) => api.cancelRelease(projectId, releaseId),
    onSuccess: (release) => putRelease(qc, projectId, release),
    onError: (err) => toast.error("Couldn't cancel the build", { description: errorMessage(err) }),
    onSettled: () => qc.invalidateQueries({ queryKey: deploymentKey(projectId) }),
  });
}

/**
 * Making a ready release the live one (a rollback, or a roll forward again):
 * the toast offers to undo by promoting the release that was live before.
 */
export function usePromote(projectId: string) {
  const qc = useQueryClient();
  async function promote(release: Pick<Release, "id" | "number">, undoable = true): Promise<void> {
    const deployment = await api.promote(projectId, release.id);
    await qc.invalidateQueries({ queryKey: deploymentKey(projectId) });
    const previous = undoable ? deployment.previousReleaseId : null;
    const before = previous ? qc.getQueryData<DeploymentState>(deploymentKey(projectId))?.releases.find((r) => r.id === previous) : undefined;
    toast.success(`Release #${release.number} is live`, {
      duration: before ? 10_000 : undefined,
      action: before
        ? {
            label: "Undo",
            onClick: () =>
              void promote(before, false).catch((err: unknown) =>
                toast.error("Couldn't undo the rollback", { description: errorMessage(err) }),
              ),
          }
        : undefined,
    });
  }
  return promote;
}
