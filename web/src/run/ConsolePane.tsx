import { Play, RotateCcw, Square, X } from "lucide-react";
import { lazy, Suspense } from "react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading } from "@/components/ui/spinner";
import { Tooltip } from "@/components/ui/tooltip";
import { errorMessage, type RunConfig } from "@/lib/api";
import { formatDuration } from "@/lib/format";
import { useProjectSession } from "@/workspace/model";
import { READ_ONLY_RUN } from "./RunControls";
import { isActive, useRun, useRunConfig } from "./runs";
import { describeRun, RunRequestFailure, StatusDot, useRunDuration } from "./status";

const ConsoleOutput = lazy(() => import("./ConsoleOutput"));

/** The run's output (Console tab): a header saying what ran and how it went, then the terminal. */
export function ConsolePane() {
  const { runs, canEdit } = useProjectSession();
  const snap = useRun(runs, (s) => s);
  const { error } = snap;
  const showOutput = snap.run !== null;

  return (
    <div className="flex h-full min-h-0 flex-col">
      {showOutput && <ConsoleHeader />}
      {error && (
        <div className="relative border-b border-border bg-destructive/10 px-3 py-2 text-[13px]">
          <RunRequestFailure error={error} onRetry={canEdit ? () => void runs[error.action]() : undefined} />
          <Button variant="ghost" size="icon-sm" className="absolute top-1.5 right-1.5" aria-label="Dismiss" onClick={runs.dismissError}>
            <X />
          </Button>
        </div>
      )}
      <div className="min-h-0 flex-1 bg-background">
        {showOutput ? (
          <Suspense fallback={<Loading label="Opening the console" />}>
            <ConsoleOutput runs={runs} />
          </Suspense>
        ) : (
          !error && <ConsoleEmpty />
        )}
      </div>
    </div>
  );
}

function ConsoleHeader() {
  const { runs, canEdit } = useProjectSession();
  const snap = useRun(runs, (s) => s);
  const run = snap.run!;
  const { label, tone } = describeRun(snap);
  const duration = useRunDuration(run);
  const active = isActive(run);

  return (
    <div data-testid="console-header" className="flex h-9 shrink-0 items-center gap-2 border-b border-border px-2 text-xs">
      <StatusDot tone={tone} />
      <code className="min-w-0 truncate font-mono text-[13px] text-foreground" title={run.command}>
        {run.command}
      </code>
      <span className="shrink-0 text-muted-foreground" data-testid="console-status">
        {label}
        {run.exitCode !== null && run.status !== "crashed" && ` · exit ${run.exitCode}`}
        {duration !== null && ` · ${formatDuration(duration)}`}
      </span>
      {canEdit && (
        <div className="ml-auto flex shrink-0 items-center gap-1">
          <Tooltip content={active ? "Restart" : "Run again"}>
            <Button variant="ghost" size="icon-sm" aria-label={active ? "Restart" : "Run again"} onClick={() => void runs.start()} disabled={snap.pending !== null}>
              <RotateCcw />
            </Button>
          </Tooltip>
          {active && (
            <Tooltip content="Stop">
              <Button variant="ghost" size="icon-sm" aria-label="Stop" onClick={() => void runs.stop()} disabled={snap.pending !== null}>
                <Square className="fill-destructive-text text-destructive-text" />
              </Button>
            </Tooltip>
          )}
        </div>
      )}
    </div>
  );
}

/** Before the first run: what Run will do, read from ecode.toml or guessed. */
function ConsoleEmpty() {
  const { project, runs, canEdit } = useProjectSession();
  const config = useRunConfig(project.id);
  const pending = useRun(runs, (s) => s.pending);
  const canRun = canEdit && config.data?.source !== "none";

  return (
    <EmptyState
      icon={Play}
      title="Run output appears here"
      action={
        canEdit && (
          <Button variant="run" onClick={() => void runs.start()} disabled={!canRun || pending === "start"}>
            <Play className="fill-current" aria-hidden /> Run
          </Button>
        )
      }
    >
      <p data-testid="run-plan">
        {config.isPending ? (
          "Run starts your program in the project's sandbox and streams its output here."
        ) : config.isError ? (
          <>Couldn't read what Run will do: {errorMessage(config.error)}</>
        ) : (
          <RunPlan config={config.data} />
        )}
      </p>
      {!canEdit && <p className="mt-1">{READ_ONLY_RUN}; you'll see its output here when the owner runs it.</p>}
    </EmptyState>
  );
}

function Cmd({ children }: { children: string }) {
  return <code className="rounded bg-muted px-1 font-mono text-foreground">{children}</code>;
}

function RunPlan({ config: { config, source } }: { config: RunConfig }) {
  if (source === "none" || !config.run) {
    return (
      <>
        There's nothing to run yet: add a line like <Cmd>{'run = "node index.js"'}</Cmd> to <Cmd>ecode.toml</Cmd>.
      </>
    );
  }
  return (
    <>
      Run will execute <Cmd>{config.run}</Cmd>{" "}
      {source === "ecode.toml" ? (
        <>
          (from <Cmd>ecode.toml</Cmd>).
        </>
      ) : (
        <>
          (guessed from the project's files; set <Cmd>run</Cmd> in <Cmd>ecode.toml</Cmd> to choose).
        </>
      )}
      {config.install && (
        <>
          {" "}
          <Cmd>{config.install}</Cmd> runs first when dependencies change.
        </>
      )}
      {config.build && (
        <>
          {" "}
          <Cmd>{config.build}</Cmd> builds it before each run.
        </>
      )}
    </>
  );
}
