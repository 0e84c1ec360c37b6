import { CircleCheck, CircleDot, Clock, MoonStar, TriangleAlert } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage, type Instance, type Scale } from "@/lib/api";
import { formatDuration } from "@/lib/format";
import { cn } from "@/lib/utils";
import { useInstances } from "./appQueries";

const stateLabels: Record<Instance["state"], string> = {
  starting: "Starting",
  ready: "Ready",
  draining: "Draining",
  crashed: "Crashed",
  backoff: "Waiting to restart",
};

const stateStyles: Partial<Record<Instance["state"], string>> = {
  ready: "border-primary/60 text-foreground",
  crashed: "border-destructive-text/40 bg-destructive/10 text-destructive-text",
  backoff: "border-warning/50 text-warning",
};

/** The ids are long and alike at the start: their end tells instances apart, in this list and in the logs. */
export const shortId = (id: string) => id.slice(-6);

/**
 * The live app's instances, each with its state, and what the deployment aims at; a banner when it crash-loops.
 * Looked at every 2 s while the pane shows.
 */
export function Instances({ projectId, shown }: { projectId: string; shown: boolean }) {
  const state = useInstances(projectId, shown);
  return (
    <section aria-labelledby="instances-heading" className="grid gap-2" data-testid="instances">
      <h2 id="instances-heading" className="text-sm font-semibold">
        Instances
      </h2>
      {state.isPending ? (
        <Spinner label="Loading instances" />
      ) : state.isError ? (
        <div role="alert" className="flex flex-wrap items-center gap-2 text-destructive-text">
          Couldn't load the instances: {errorMessage(state.error)}
          <Button size="sm" onClick={() => void state.refetch()}>
            Try again
          </Button>
        </div>
      ) : (
        <InstanceList instances={state.data.instances} scale={state.data.scale} now={state.dataUpdatedAt} />
      )}
    </section>
  );
}

/** now is when the server answered: ages and countdowns move on with each look. */
function InstanceList({ instances, scale, now }: { instances: Instance[]; scale: Scale; now: number }) {
  return (
    <>
      {scale.crashLoop && <CrashLoop instances={instances} now={now} />}
      <p className="flex items-center gap-2 text-muted-foreground" data-testid="scale-line">
        {instances.length === 0 && scale.desired === 0 && scale.target === "autoscale" && (
          <MoonStar className="size-4 shrink-0" aria-hidden />
        )}
        {scaleLine(scale, instances)}
      </p>
      {scale.message && !scale.crashLoop && (
        <p role="status" className="text-warning">
          {scale.message}
        </p>
      )}
      {instances.length > 0 && (
        <ul className="grid gap-1.5">
          {instances.map((i) => (
            <InstanceRow key={i.id} instance={i} now={now} />
          ))}
        </ul>
      )}
    </>
  );
}

/** "2 of max 5 instances, aiming at 80 requests each", "scaled to zero", or a vm's always-on count. */
function scaleLine(scale: Scale, instances: Instance[]): string {
  const running = instances.filter((i) => i.state !== "draining").length;
  const plural = (n: number) => (n === 1 ? "instance" : "instances");
  if (scale.target === "vm") {
    return `${running} of ${scale.max} ${plural(scale.max)} running, always on.`;
  }
  if (running === 0 && scale.desired === 0) {
    return "Scaled to zero: the next request starts one.";
  }
  let line = `${running} of max ${scale.max} ${plural(scale.max)}, aiming at ${scale.concurrency} requests each`;
  if (scale.desired !== running) line += `; scaling to ${scale.desired}`;
  if (scale.min > 0) line += `; ${scale.min} kept when idle`;
  return `${line}.`;
}

function CrashLoop({ instances, now }: { instances: Instance[]; now: number }) {
  // The instance that ended last says best what goes wrong.
  const last = instances.filter((i) => i.lastExit).sort((a, b) => b.startedAt - a.startedAt)[0];
  const next = last?.nextStartAt;
  return (
    <div
      role="alert"
      data-testid="crash-loop"
      className="grid gap-1 rounded-md border border-destructive-text/40 bg-destructive/10 p-3 text-destructive-text"
    >
      <p className="flex items-center gap-1.5 font-medium">
        <TriangleAlert className="size-4 shrink-0" aria-hidden />
        The app keeps crashing soon after it starts.
      </p>
      {last?.lastExit && <p>Last exit: {last.lastExit}</p>}
      <p className="text-foreground">
        It is started again after a growing pause{next && next > now ? ` (next try in ${formatDuration(next - now)})` : ""}.
        Its output is in the runtime logs below: fix the app or its run command, then deploy again.
      </p>
    </div>
  );
}

function InstanceRow({ instance: i, now }: { instance: Instance; now: number }) {
  const waiting = i.state === "crashed" || i.state === "backoff";
  return (
    <li
      aria-label={`Instance ${shortId(i.id)}: ${stateLabels[i.state]}`}
      data-testid="instance"
      data-state={i.state}
      className="grid gap-1 rounded-md border border-border px-3 py-2"
    >
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <Badge className={cn(stateStyles[i.state])}>
          {i.state === "starting" && <Spinner className="size-3 text-current" />}
          {i.state === "ready" && <CircleCheck aria-hidden />}
          {i.state === "draining" && <CircleDot aria-hidden />}
          {i.state === "crashed" && <TriangleAlert aria-hidden />}
          {i.state === "backoff" && <Clock aria-hidden />}
          {stateLabels[i.state]}
        </Badge>
        <code className="font-mono text-xs" title={i.id}>
          {shortId(i.id)}
        </code>
        <span className="text-xs text-muted-foreground">
          {i.inFlight} in flight · {i.restarts} {i.restarts === 1 ? "restart" : "restarts"}
          {waiting
            ? i.nextStartAt && i.nextStartAt > now && ` · restarts in ${formatDuration(i.nextStartAt - now)}`
            : ` · up ${formatDuration(now - i.startedAt)}`}
        </span>
      </div>
      {i.lastExit && <p className="text-xs break-words text-muted-foreground">Last exit: {i.lastExit}</p>}
    </li>
  );
}
