import { ExternalLink, Rocket } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { CancelBuild } from "@/deploy/CancelBuild";
import { inProgress, useDeploy, useDeployment } from "@/deploy/queries";
import { ReleaseStatus } from "@/deploy/ReleaseStatus";
import { targets } from "@/deploy/targets";
import { errorMessage, type AgentRun } from "@/lib/api";
import { useLayout, useProjectSession } from "@/workspace/model";

/**
 * The Deploy tab of a run: what the agent built, deployed as a static site in one click,
 * with the Deploy pane one link away for the settings, the log and the releases.
 */
export function DeployTab({ run }: { run: AgentRun }) {
  const { project, canEdit } = useProjectSession();
  const { showRight } = useLayout();
  const state = useDeployment(project.id);
  const deploy = useDeploy(project.id);
  const running = run.status === "running";
  // An app the agent started listens on a port: a server, which static deploys don't run.
  const server = (run.steps ?? []).some((s) => s.tool === "start_app");
  const latest = state.data?.releases[0];
  const live = state.data?.deployment && state.data.releases.find((r) => r.live);
  const serves = state.data?.config?.serves;
  const openPane = () => showRight("deploy");

  return (
    <div className="grid gap-3 text-[13px]">
      <p className="text-foreground">
        {server
          ? "The agent built a server. Autoscale and Reserved VM deployments, which run it, are coming; a static deploy serves its files as they are."
          : "Deploy what the agent built as a static site: the project is built in a fresh sandbox and its files served at an address of its own."}
        {serves && <span className="text-muted-foreground"> It will serve {serves}.</span>}
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <Button
          variant="primary"
          size="sm"
          disabled={!canEdit || running || deploy.isPending || state.isPending}
          onClick={() => deploy.mutate(undefined, { onSuccess: openPane })}
        >
          {deploy.isPending ? <Spinner className="text-current" /> : <Rocket />} Deploy as a static site
        </Button>
        <Button variant="link" size="sm" onClick={openPane}>
          Open the Deploy pane
        </Button>
        {(!canEdit || running) && (
          <span className="text-xs text-muted-foreground">
            {!canEdit ? "Only the project's editors can deploy it." : "Deploy once the agent has finished."}
          </span>
        )}
      </div>
      {deploy.isError && (
        <p role="alert" className="text-destructive-text">
          Couldn't start the deploy: {errorMessage(deploy.error)}
        </p>
      )}
      {latest && (inProgress(latest) || latest.status === "failed") && (
        <p className="flex items-center gap-2 text-muted-foreground">
          Release #{latest.number} <ReleaseStatus release={latest} />
          {canEdit && inProgress(latest) && <CancelBuild projectId={project.id} release={latest} />}
        </p>
      )}
      {live && state.data?.deployment && (
        <p className="flex flex-wrap items-center gap-2">
          <Badge className="border-primary/60 text-foreground">Live</Badge>
          <a
            href={state.data.deployment.url}
            target="_blank"
            rel="noreferrer"
            className="inline-flex items-center gap-1 font-mono break-all text-link underline-offset-4 hover:underline"
          >
            {state.data.deployment.url}
            <ExternalLink className="size-3.5 shrink-0" aria-hidden />
          </a>
        </p>
      )}
      <ul aria-label="Kinds of deployment" className="grid gap-2">
        {targets.map(({ id, icon: Icon, name, what, available }) => (
          <li key={id} className="flex items-start gap-2">
            <Icon className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
            <span>
              <span className="font-medium text-foreground">{name}</span>{" "}
              {!available && <Badge className="px-1.5 py-0 font-normal">Coming soon</Badge>}{" "}
              <span className="text-muted-foreground">{what}</span>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}
