import { AlertsPanel } from "@/alerts/AlertsPanel";
import type { Scope } from "./api";
import { Errors } from "./Errors";
import { MonitoringTabs } from "./MonitoringTabs";
import { Overview } from "./Overview";
import { Replays } from "./Replays";
import { Settings } from "./Settings";

interface MonitoringPaneProps {
  projectId: string;
  /** May resolve errors and change the settings; the server decides in the end. */
  canEdit?: boolean;
  /** May make a new ingest key. */
  canAdmin?: boolean;
}

/** A deployment's monitoring: overview, errors, replays, alerts and the script's settings. */
export function MonitoringPane({ projectId, canEdit = true, canAdmin = true }: MonitoringPaneProps) {
  const scope: Scope = { project: projectId };
  return (
    <MonitoringTabs
      sections={(range, show) => {
        const openSettings = () => show("settings");
        return {
          overview: <Overview scope={scope} range={range} onOpenSettings={openSettings} />,
          errors: <Errors scope={scope} range={range} canEdit={canEdit} onOpenSettings={openSettings} />,
          replays: <Replays projectId={projectId} range={range} onOpenSettings={openSettings} />,
          alerts: <AlertsPanel projectId={projectId} />,
          settings: <Settings projectId={projectId} canEdit={canEdit} canAdmin={canAdmin} />,
        };
      }}
    />
  );
}
