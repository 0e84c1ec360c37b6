import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ExternalLink, Rocket } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { CancelBuild } from "@/deploy/CancelBuild";
import { deploymentKey, inProgress, useDeploy, useDeployment } from "@/deploy/queries";
import { ReleaseStatus } from "@/deploy/ReleaseStatus";
import { targets } from "@/deploy/targets";
import { api, errorMessage, type AgentRun, type DeploymentConfig, type DeploymentState, type DeployTarget } from "@/lib/api";
import { useLayout, useProjectSession } from "@/workspace/model";

/** What the one-click button deploys as. */
const deployAs: Record<DeployTarget, string> = {
  static: "a static site",
  autoscale: "autoscale",
  vm: "a reserved VM",
  scheduled: "a scheduled job",
};

/**
 * The type to deploy as: the one the project's [deployment] names, else the one that fits what
 * the agent built. Static is also what an unset target reads as, so for a server it names nothing.
 */
function chosenTarget(config: DeploymentConfig | null | undefined, server: boolean): { target: DeployTarget; named: boolean } {
  const fits: DeployTarget = server ? "autoscale" : "static";
  const named = config?.target;
  if (named && !(server && named === "static")) return { target: named, named: named !== fits };
  return { target: fits, named: false };
}

/**
 * The Deploy tab of a run: what the agent built, deployed in one click as the type that fits it
 * (autoscale for a server, static files otherwise), with the Deploy pane one link away for the
 * other types, the settings, the log and the releases.
 */
export function DeployTab({ run }: { run: AgentRun }) {
  const { project, canEdit } = useProjectSession();
  const { showRight } = useLayout();
  const qc = useQueryClient();
  const state = useDeployment(project.id);
  const deploy = useDeploy(project.id);
  const running = run.status === "running";
  // An app the agent started listens on a port: a server, which an autoscale deployment runs.
  const server = (run.steps ?? []).some((s) => s.tool === "start_app");
  const { target, named } = chosenTarget(state.data?.config, server);
  const latest = state.data?.releases[0];
  const live = state.data?.deployment && state.data.releases.find((r) => r.live);
  const config = state.data?.config;
  const openPane = () => showRight("deploy");

  // The type is saved to [deployment] first, over the settings as they stand now (the agent may
  // have changed ecode.toml since they were last read), keeping every other key.
  const save = useMutation({
    mutationFn: async () => {
      const fresh = (await state.refetch({ throwOnError: true })).data;
      if (!fresh?.config) throw new Error(fresh?.configError ?? "the deployment settings couldn't be read");
      const { target } = chosenTarget(fresh.config, server);
      if (fresh.config.target === target) return;
      const saved = await api.saveDeploymentConfig(project.id, { ...fresh.config, target });
      qc.setQueryData<DeploymentState>(deploymentKey(project.id), (d) => d && { ...d, config: saved });
    },
  });
  async function go() {
    try {
      await save.mutateAsync();
      await deploy.mutateAsync();
      openPane();
    } catch {
      // Shown under the button.
    }
  }
  const busy = save.isPending || deploy.isPending;
  const failed = save.error
    ? `Couldn't save the deployment settings: ${errorMessage(save.error)}`
    : deploy.error && `Couldn't start the deploy: ${errorMessage(deploy.error)}`;
  const kind = targets.find((t) => t.id === target);

  return (
    <div className="grid gap-3 text-[13px]">
      <p className="text-foreground">
        {named
          ? `The project's deployment settings name ${kind?.name}, so what the agent built deploys as that. ${kind?.what}`
          : server
            ? "The agent built a server. Deploy it as autoscale: it is built in a fresh sandbox and runs at an address of its own, with instances started as requests come and none when idle."
            : "Deploy what the agent built as a static site: the project is built in a fresh sandbox and its files served at an address of its own."}
        {target === "static" && config?.serves && <span className="text-muted-foreground"> It will serve {config.serves}.</span>}
        {target !== "static" && config?.run && (
          <span className="text-muted-foreground">
            {" "}
            It runs <code className="font-mono">{config.run}</code>.
          </span>
        )}
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <Button variant="primary" size="sm" disabled={!canEdit || running || busy || state.isPending} onClick={() => void go()}>
          {busy ? <Spinner className="text-current" /> : <Rocket />} Deploy as {deployAs[target]}
        </Button>
        <Button variant="link" size="sm" onClick={openPane}>
          Other kinds of deployment…
        </Button>
        {(!canEdit || running) && (
          <span className="text-xs text-muted-foreground">
            {!canEdit ? "Only the project's editors can deploy it." : "Deploy once the agent has finished."}
          </span>
        )}
      </div>
      {failed && (
        <p role="alert" className="text-destructive-text">
          {failed}
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
    </div>
  );
}
