import { Play, Square } from "lucide-react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Popover, PopoverAnchor, PopoverContent } from "@/components/ui/popover";
import { Spinner } from "@/components/ui/spinner";
import { Tooltip } from "@/components/ui/tooltip";
import { modKey } from "@/lib/keys";
import { useProjectSession, useLayout } from "@/workspace/model";
import { hasFailed, isActive, useRun } from "./runs";
import { describeRun, RunFailure, RunRequestFailure, StatusDot } from "./status";

export const READ_ONLY_RUN = "Only people who can edit this project can run it";

/**
 * The header's Run button (Stop while a run is live) and the run's status.
 * A crash seen live, or a refused request, opens a small notice under it with
 * the last lines of output; the editor keeps focus.
 */
export function RunControls() {
  const { runs, canEdit } = useProjectSession();
  const { narrow, mobileTab, rightTab, showRight } = useLayout();
  const snap = useRun(runs, (s) => s);
  const { run, pending, error, notice } = snap;
  const active = isActive(run);
  const { label, tone } = describeRun(snap);

  // The notice shows while there is one the person hasn't closed, or when they ask for it again.
  const [dismissed, setDismissed] = useState(notice);
  const [pinned, setPinned] = useState(false);
  const failed = hasFailed(run);
  const hasNotice = error !== null || failed;
  // A refused request the Console in sight already shows is not shown twice.
  const consoleShows = (narrow ? mobileTab : rightTab) === "console";
  const open = hasNotice && (pinned || (notice !== dismissed && !(error && consoleShows)));
  const close = () => {
    setDismissed(notice);
    setPinned(false);
  };
  const act = (fn: () => void) => () => {
    close();
    fn();
  };

  return (
    <Popover open={open} onOpenChange={(o) => (o ? setPinned(true) : close())}>
      <PopoverAnchor asChild>
        <div className="flex items-center gap-2">
          {!canEdit ? (
            <Tooltip content={READ_ONLY_RUN}>
              <Button variant="run" aria-disabled="true" className="min-w-20 cursor-not-allowed opacity-50 hover:bg-run">
                <Play className="fill-current" aria-hidden /> Run
              </Button>
            </Tooltip>
          ) : active ? (
            <Tooltip content={`Stop (${modKey} Enter restarts)`}>
              <Button variant="outline" className="min-w-20" onClick={() => void runs.stop()} disabled={pending === "stop"}>
                {pending === "stop" ? (
                  <Spinner />
                ) : (
                  <Square className="fill-destructive-text text-destructive-text" aria-hidden />
                )}
                Stop
              </Button>
            </Tooltip>
          ) : (
            <Tooltip content={`Run (${modKey} Enter)`}>
              <Button
                variant="run"
                className="min-w-20"
                onClick={() => void runs.start()}
                aria-busy={pending === "start"}
                disabled={pending === "start"}
              >
                {pending === "start" ? <Spinner className="text-run-foreground" /> : <Play className="fill-current" aria-hidden />}
                Run
              </Button>
            </Tooltip>
          )}
          <span aria-live="polite" className="hidden md:inline-flex">
            {hasNotice ? (
              <button
                type="button"
                data-testid="run-status"
                onClick={() => setPinned(true)}
                className="inline-flex items-center gap-1.5 rounded px-1 text-xs text-destructive-text hover:bg-muted"
                title="Show what happened"
              >
                <StatusDot tone={error ? "bad" : tone} />
                {error
                  ? error.code === "out_of_credits"
                    ? "Out of credits"
                    : error.action === "start"
                      ? "Couldn't start"
                      : "Couldn't stop"
                  : label}
              </button>
            ) : (
              <span data-testid="run-status" className="inline-flex items-center gap-1.5 px-1 text-xs text-muted-foreground">
                <StatusDot tone={tone} />
                {label}
              </span>
            )}
          </span>
        </div>
      </PopoverAnchor>
      <PopoverContent
        align="center"
        aria-label="Run problem"
        // Opened by a crash, it must not take the keyboard from the editor.
        onOpenAutoFocus={(e) => {
          if (!pinned) e.preventDefault();
        }}
      >
        {error ? (
          <RunRequestFailure error={error} onRetry={canEdit ? act(() => void runs[error.action]()) : undefined} />
        ) : (
          run && (
            <RunFailure
              run={run}
              lines={runs.tail(8)}
              onRestart={canEdit ? act(() => void runs.start()) : undefined}
              onShowConsole={act(() => showRight("console"))}
            />
          )
        )}
      </PopoverContent>
    </Popover>
  );
}
