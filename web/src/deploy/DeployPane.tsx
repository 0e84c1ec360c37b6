import { ExternalLink, FileCode2, Globe } from "lucide-react";
import { useState } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Loading } from "@/components/ui/spinner";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import type { Deployment, Release } from "@/lib/api";
import { timeAgo } from "@/lib/format";
import { MonitoringPane } from "@/monitoring/MonitoringPane";
import { useEditorTabs, useProjectSession } from "@/workspace/model";
import { BuildLog } from "./BuildLog";
import { DeploymentEnv } from "./DeploymentEnv";
import { DeploySettings } from "./DeploySettings";
import { Domains } from "./Domains";
import { ExportMenu } from "./ExportMenu";
import { LiveApp } from "./LiveApp";
import { ProductionData } from "./ProductionData";
import { inProgress, useDeployment } from "./queries";
import { ReleaseList } from "./ReleaseList";
import { ScheduledRuns } from "./ScheduledRuns";
import { Webhook } from "./Webhook";

/**
 * The Deploy tab: the live site's address (or a scheduled job's runs, or an app's instances, traffic and logs),
 * the type and its settings, Deploy, the build as it happens, and the releases.
 */
export function DeployPane() {
  const { project, canEdit, viewOnly } = useProjectSession();
  const state = useDeployment(project.id);
  // The release whose log shows: the one just deployed or picked, else the newest.
  const [picked, setPicked] = useState<string | null>(null);

  if (state.isPending) return <Loading label="Loading deployments" />;
  if (state.isError) return <ErrorState error={state.error} onRetry={() => void state.refetch()} />;

  const { deployment, releases, configError } = state.data;
  // Settings ecode.toml gets wrong are shown; saving the form writes a good [deployment] over them.
  const config = state.data.config ?? {};
  const shown = releases.find((r) => r.id === picked) ?? releases[0];
  const blocked = canEdit
    ? null
    : viewOnly
      ? "Viewers can't deploy. Ask the project's owner to make you an editor."
      : "Only the project's editors can deploy it.";
  const pane = (
    <div className="grid h-full content-start gap-5 overflow-auto p-3 text-[13px]" data-testid="deploy-pane">
      <LiveSite deployment={deployment} releases={releases} />
      {deployment?.target === "scheduled" && <ScheduledRuns projectId={project.id} canRun={canEdit} />}
      {(deployment?.target === "autoscale" || deployment?.target === "vm") && <LiveApp projectId={project.id} />}
      {configError && <ConfigProblem message={configError} />}
      <DeploySettings
        projectId={project.id}
        config={config}
        blocked={blocked}
        ahead={releases.find(inProgress)}
        onDeployed={(r) => setPicked(r.id)}
      />
      {shown && (
        <BuildLog key={shown.id} projectId={project.id} release={shown} live={releases.find((r) => r.live)} canCancel={canEdit} />
      )}
      {releases.length > 0 && (
        <ReleaseList projectId={project.id} releases={releases} shown={shown?.id ?? null} onShowLog={setPicked} canPromote={canEdit} />
      )}
      <Domains projectId={project.id} canEdit={canEdit} />
      {canEdit && <ExportMenu projectId={project.id} target={state.data.config?.target} />}
      {canEdit && <ProductionData projectId={project.id} latest={releases[0]} />}
      {canEdit && <DeploymentEnv projectId={project.id} />}
      {canEdit && <Webhook projectId={project.id} />}
    </div>
  );
  // The same tree before and after the first release goes live, so the build log stays as it is.
  return (
    <Tabs defaultValue={monitoringAsked() ? "monitoring" : "deployment"} className="flex h-full min-h-0 flex-col">
      {deployment && (
        <TabsList aria-label="Deployment views">
          <TabsTrigger value="deployment">Deployment</TabsTrigger>
          <TabsTrigger value="monitoring">Monitoring</TabsTrigger>
        </TabsList>
      )}
      <TabsContent value="deployment">{pane}</TabsContent>
      {deployment && (
        <TabsContent value="monitoring">
          <MonitoringPane projectId={project.id} canEdit={canEdit} canAdmin={project.role === "owner" || project.role === "admin"} />
        </TabsContent>
      )}
    </Tabs>
  );
}

/** ecode.toml's [deployment] can't be read: what is wrong, and the file to fix it in. */
function ConfigProblem({ message }: { message: string }) {
  const { openFile } = useEditorTabs();
  return (
    <div role="alert" className="grid gap-2 rounded-md border border-destructive-text/40 bg-destructive/10 p-3">
      <p className="text-destructive-text">{message}</p>
      <p className="text-foreground">Fix it in ecode.toml, or save the settings below to write them anew.</p>
      <Button size="sm" className="justify-self-start" onClick={() => openFile("ecode.toml")}>
        <FileCode2 /> Open ecode.toml
      </Button>
    </div>
  );
}

/** Where the deployment answers, with the release behind it; or what Deploy will make. */
function LiveSite({ deployment, releases }: { deployment: Deployment | null; releases: Release[] }) {
  const live = releases.find((r) => r.live);
  if (!deployment || !live) {
    return (
      <section aria-label="Live site" className="flex items-start gap-2 rounded-md border border-dashed border-border p-3">
        <Globe className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
        <p className="text-muted-foreground">
          Not deployed yet. Deploy builds the project from its current files in a fresh sandbox and serves the result at
          an address of its own, which stays up while you keep editing.
        </p>
      </section>
    );
  }
  if (deployment.target === "scheduled") {
    return (
      <section aria-label="Live site" className="grid gap-2 rounded-md border border-primary/60 p-3">
        <div className="flex flex-wrap items-center gap-2">
          <Badge className="border-primary/60 text-foreground">Live</Badge>
          <span>Scheduled job: it runs on its schedule, and serves no address.</span>
        </div>
        <p className="text-xs text-muted-foreground">
          Release #{live.number} from {live.commit.slice(0, 7)}, deployed by {live.createdBy.username} {timeAgo(live.createdAt)}
        </p>
      </section>
    );
  }
  return (
    <section aria-label="Live site" className="grid gap-2 rounded-md border border-primary/60 p-3">
      <div className="flex flex-wrap items-center gap-2">
        <Badge className="border-primary/60 text-foreground">Live</Badge>
        <a
          href={deployment.url}
          target="_blank"
          rel="noreferrer"
          data-testid="deployment-url"
          className="inline-flex min-w-0 items-center gap-1 font-mono break-all text-link underline-offset-4 hover:underline"
        >
          {deployment.url}
          <ExternalLink className="size-3.5 shrink-0" aria-hidden />
        </a>
        <CopyButton text={deployment.url} what="URL" />
      </div>
      <p className="text-xs text-muted-foreground">
        Release #{live.number} from {live.commit.slice(0, 7)}, deployed by {live.createdBy.username} {timeAgo(live.createdAt)}
      </p>
    </section>
  );
}

/** Whether the workspace opened on a link to the monitoring (an alert's notification). */
function monitoringAsked(): boolean {
  return new URLSearchParams(window.location.search).has("monitoring");
}
