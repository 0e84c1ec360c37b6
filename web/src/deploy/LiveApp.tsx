import { useDeployPaneShown } from "./appQueries";
import { Instances } from "./Instances";
import { MetricsCharts } from "./MetricsCharts";
import { RuntimeLogs } from "./RuntimeLogs";

/** A live autoscale or vm deployment as it runs: its instances, its traffic and its logs, kept fresh while the pane shows. */
export function LiveApp({ projectId }: { projectId: string }) {
  const shown = useDeployPaneShown();
  return (
    <>
      <Instances projectId={projectId} shown={shown} />
      <MetricsCharts projectId={projectId} shown={shown} />
      <RuntimeLogs projectId={projectId} shown={shown} />
    </>
  );
}
