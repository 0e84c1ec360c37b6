import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, type MetricsWindow } from "@/lib/api";
import { useLayout } from "@/workspace/model";

/** Whether the Deploy pane is the one on screen: it stays mounted, hidden, while another tab shows. */
export function useDeployPaneShown(): boolean {
  const { narrow, rightTab, mobileTab } = useLayout();
  return (narrow ? mobileTab : rightTab) === "deploy";
}

/** The live app's instances and scaling, looked at every 2 s while the pane shows (and the browser tab too). */
export function useInstances(projectId: string, shown: boolean) {
  return useQuery({
    queryKey: ["deployment-instances", projectId],
    queryFn: () => api.instances(projectId),
    refetchInterval: shown ? 2_000 : false,
  });
}

/** The edge's counts over the window; the chart stays on the last window while the next one loads. */
export function useMetrics(projectId: string, window: MetricsWindow, shown: boolean) {
  return useQuery({
    queryKey: ["deployment-metrics", projectId, window],
    queryFn: () => api.metrics(projectId, window),
    // A new point every step (10 s at the shortest): no need to ask more often.
    refetchInterval: shown ? 10_000 : false,
    placeholderData: keepPreviousData,
  });
}
