import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CalendarClock, CircleCheck, Clock, Play, ScrollText, SkipForward, TriangleAlert } from "lucide-react";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { api, errorMessage, type Execution } from "@/lib/api";
import { formatDate, formatDuration, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";

const executionsKey = (projectId: string) => ["deployment-executions", projectId] as const;

const labels: Record<Execution["status"], string> = {
  running: "Running",
  ok: "Succeeded",
  failed: "Failed",
  timed_out: "Timed out",
  skipped: "Skipped",
};

const bad = (e: Execution) => e.status === "failed" || e.status === "timed_out";

/**
 * A live scheduled deployment: its schedule and next run, Run now, a notice when the last run failed,
 * and the history with logs.
 */
export function ScheduledRuns({ projectId, canRun }: { projectId: string; canRun: boolean }) {
  const qc = useQueryClient();
  const state = useQuery({
    queryKey: executionsKey(projectId),
    queryFn: () => api.executions(projectId),
    // Often while a run goes, else often enough to see the schedule's runs come in.
    refetchInterval: (q) => (q.state.data?.executions.some((e) => e.status === "running") ? 1_000 : 10_000),
  });
  const [shown, setShown] = useState<string | null>(null);
  const runNow = useMutation({
    mutationFn: () => api.runNow(projectId),
    onSuccess: (e) => setShown(e.id),
    onSettled: () => qc.invalidateQueries({ queryKey: executionsKey(projectId) }),
  });
  if (!state.data) return null;
  const { executions, schedule } = state.data;
  const last = executions.find((e) => e.status !== "skipped" && e.status !== "running");
  const running = executions.some((e) => e.status === "running");
  return (
    <section aria-labelledby="runs-heading" className="grid gap-2" data-testid="scheduled-runs">
      <h2 id="runs-heading" className="text-sm font-semibold">
        Runs
      </h2>
      {schedule && (
        <div className="flex flex-wrap items-center gap-2 rounded-md border border-border p-3">
          <CalendarClock className="size-4 shrink-0 text-muted-foreground" aria-hidden />
          <span data-testid="live-schedule">
            {schedule.sentence} ({schedule.timeZone}), <code className="font-mono">{schedule.command}</code>
          </span>
          <span className="text-xs text-muted-foreground" data-testid="next-run">
            Next run {formatDate(schedule.nextRun)}
          </span>
          {canRun && (
            <Button size="sm" className="ml-auto" disabled={running || runNow.isPending} onClick={() => runNow.mutate()}>
              {runNow.isPending ? <Spinner className="text-current" /> : <Play />}
              Run now
            </Button>
          )}
        </div>
      )}
      {runNow.error && (
        <p role="alert" className="text-destructive-text">
          Couldn't start a run: {errorMessage(runNow.error)}
        </p>
      )}
      {last && bad(last) && (
        <p
          role="alert"
          data-testid="run-failed"
          className="rounded-md border border-destructive-text/40 bg-destructive/10 p-3 text-destructive-text"
        >
          The last run, {timeAgo(last.startedAt)}, {last.status === "timed_out" ? "timed out" : "failed"}: {last.error}
        </p>
      )}
      {executions.length === 0 ? (
        <p className="text-muted-foreground">No runs yet.</p>
      ) : (
        <ol aria-label="Runs" className="grid gap-2">
          {executions.map((e) => (
            <li
              key={e.id}
              aria-label={`Run ${formatDate(e.startedAt)}`}
              className={cn("grid gap-1 rounded-md border border-border px-3 py-2", shown === e.id && "bg-muted/50")}
            >
              <div className="flex flex-wrap items-center gap-2">
                <ExecutionStatus execution={e} />
                <time className="text-xs" dateTime={new Date(e.startedAt).toISOString()} title={formatDate(e.startedAt)}>
                  {timeAgo(e.startedAt)}
                </time>
                <span className="text-xs text-muted-foreground">
                  {e.source === "manual" ? "Run now" : "on schedule"}
                  {e.exitCode !== null && ` · exit code ${e.exitCode}`}
                  {e.durationMs !== null && e.status !== "skipped" && ` · ${formatDuration(e.durationMs)}`}
                </span>
                {e.status !== "skipped" && (
                  <Button
                    size="sm"
                    variant="ghost"
                    className="ml-auto"
                    aria-pressed={shown === e.id}
                    onClick={() => setShown(shown === e.id ? null : e.id)}
                  >
                    <ScrollText /> Log
                  </Button>
                )}
              </div>
              {e.error && e.status !== "ok" && <p className="text-xs break-words text-muted-foreground">{e.error}</p>}
              {shown === e.id && <RunLog projectId={projectId} execution={e} />}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function ExecutionStatus({ execution }: { execution: Execution }) {
  const failed = bad(execution);
  return (
    <Badge
      data-testid="run-status"
      className={cn(failed && "border-destructive-text/40 bg-destructive/10 text-destructive-text")}
    >
      {execution.status === "running" && <Spinner className="size-3 text-current" />}
      {execution.status === "ok" && <CircleCheck aria-hidden />}
      {execution.status === "skipped" && <SkipForward aria-hidden />}
      {execution.status === "timed_out" && <Clock aria-hidden />}
      {execution.status === "failed" && <TriangleAlert aria-hidden />}
      {labels[execution.status]}
    </Badge>
  );
}

/** A run's output, followed while it runs. */
function RunLog({ projectId, execution }: { projectId: string; execution: Execution }) {
  const log = useQuery({
    queryKey: ["deployment-execution-log", projectId, execution.id, execution.status],
    queryFn: () => api.executionLog(projectId, execution.id),
    refetchInterval: execution.status === "running" ? 1_000 : false,
  });
  if (log.isError) return <p className="text-xs text-destructive-text">{errorMessage(log.error)}</p>;
  return (
    <pre data-testid="run-log" className="max-h-64 overflow-auto rounded bg-muted p-2 font-mono text-xs whitespace-pre-wrap">
      {log.data ? log.data.log || "(no output)" : "Loading…"}
    </pre>
  );
}
