import { Rocket } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { Tooltip } from "@/components/ui/tooltip";
import { useLayout } from "@/workspace/model";
import { inProgress, useDeployment } from "./queries";

/** The header's Deploy: opens the Deploy pane, and says at a glance whether a build is on its way or a release is live. */
export function DeployButton({ projectId }: { projectId: string }) {
  const { showRight } = useLayout();
  const state = useDeployment(projectId);
  const going = state.data?.releases.find(inProgress);
  const live = state.data?.deployment ? state.data.releases.find((r) => r.live) : undefined;
  const status = going
    ? `Release #${going.number} is ${going.status}`
    : live
      ? `Release #${live.number} is live`
      : "Not deployed yet";
  return (
    <Tooltip content={status}>
      <Button size="sm" variant="ghost" aria-label={`Deploy (${status})`} data-testid="header-deploy" onClick={() => showRight("deploy")}>
        {going ? <Spinner className="text-current" /> : <Rocket />}
        <span className="hidden sm:inline">Deploy</span>
        {!going && live && <span className="size-1.5 rounded-full bg-primary" aria-hidden />}
      </Button>
    </Tooltip>
  );
}
