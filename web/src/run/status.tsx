import { Copy, RotateCcw, TerminalSquare, TriangleAlert } from "lucide-react";
import { useEffect, useState, type ReactNode } from "react";
import { toast } from "sonner";
import { OutOfCredits } from "@/billing/OutOfCredits";
import { Button } from "@/components/ui/button";
import type { Run } from "@/lib/api";
import { cn } from "@/lib/utils";
import { useProjectSession } from "@/workspace/model";
import { isActive, type RunRequestError, type RunSnapshot } from "./runs";

// How a run's state reads wherever it shows: the header, the console, the notice.

type Tone = "idle" | "busy" | "ok" | "bad" | "done";

const dotTone: Record<Tone, string> = {
  idle: "bg-muted-foreground/60",
  busy: "bg-warning animate-pulse motion-reduce:animate-none",
  ok: "bg-run",
  bad: "bg-destructive",
  done: "bg-muted-foreground",
};

export function describeRun({ run, pending }: Pick<RunSnapshot, "run" | "pending">): { label: string; tone: Tone } {
  if (pending === "start" && !isActive(run)) return { label: "Starting…", tone: "busy" };
  if (pending === "stop") return { label: "Stopping…", tone: "busy" };
  switch (run?.status) {
    case undefined:
      return { label: "Not running", tone: "idle" };
    case "starting":
      return { label: "Starting…", tone: "busy" };
    case "building":
      return { label: "Building…", tone: "busy" };
    case "running":
      return { label: "Running", tone: "ok" };
    case "exited":
      return { label: "Exited", tone: "done" };
    case "stopped":
      return { label: "Stopped", tone: "done" };
    case "crashed":
      return { label: run.exitCode !== null ? `Crashed (exit ${run.exitCode})` : "Crashed", tone: "bad" };
    case "failed":
      return { label: "Failed to start", tone: "bad" };
  }
}

export function StatusDot({ tone, className }: { tone: Tone; className?: string }) {
  return <span className={cn("size-2 shrink-0 rounded-full", dotTone[tone], className)} aria-hidden />;
}

/** Milliseconds the run has taken: final once it ended, ticking while it runs. */
export function useRunDuration(run: Run | null): number | null {
  const live = run !== null && run.endedAt === null;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [live]);
  if (!run) return null;
  if (run.durationMs !== null) return run.durationMs;
  return Math.max(0, (run.endedAt ?? now) - run.startedAt);
}

function copy(text: string) {
  void navigator.clipboard.writeText(text).then(
    () => toast.success("Copied"),
    () => toast.error("Couldn't copy; select the text instead"),
  );
}

/** Something that went wrong with a run: what, the details, and what to do. */
function Problem({ title, children, actions }: { title: string; children: ReactNode; actions: ReactNode }) {
  return (
    <div role="alert" className="space-y-2">
      <p className="flex items-center gap-1.5 font-semibold text-destructive-text">
        <TriangleAlert className="size-4 shrink-0" aria-hidden /> {title}
      </p>
      {children}
      <div className="flex gap-2">{actions}</div>
    </div>
  );
}

/** A Run or Stop request the server refused, in its own words (they say how to fix it). */
export function RunRequestFailure({ error, onRetry }: { error: RunRequestError; onRetry?: () => void }) {
  if (error.code === "out_of_credits") return <RunOutOfCredits />;
  const title =
    error.code === "sandbox_unavailable"
      ? "This server can't run code yet"
      : error.action === "start"
        ? "Couldn't start the run"
        : "Couldn't stop the run";
  return (
    <Problem
      title={title}
      actions={
        <>
          {onRetry && (
            <Button size="sm" onClick={onRetry}>
              <RotateCcw /> Try again
            </Button>
          )}
          <Button size="sm" variant="ghost" onClick={() => copy(error.message)}>
            <Copy /> Copy message
          </Button>
        </>
      }
    >
      <p className="whitespace-pre-wrap break-words text-foreground" data-testid="run-error">
        {error.message}
      </p>
    </Problem>
  );
}

/** Run refused because the project's payer has no credits: where to top up, not a generic error. */
function RunOutOfCredits() {
  const { project } = useProjectSession();
  return <OutOfCredits project={project} what="run" />;
}

/** A run that crashed or could not start: why, and the last lines it printed. */
export function RunFailure({
  run,
  lines,
  onRestart,
  onShowConsole,
}: {
  run: Run;
  lines: string[];
  onRestart?: () => void;
  onShowConsole?: () => void;
}) {
  const title =
    run.status === "failed"
      ? "The run couldn't start"
      : run.exitCode !== null
        ? `Crashed with exit code ${run.exitCode}`
        : "The run crashed";
  return (
    <Problem
      title={title}
      actions={
        <>
          {onRestart && (
            <Button size="sm" onClick={onRestart}>
              <RotateCcw /> Restart
            </Button>
          )}
          {onShowConsole && (
            <Button size="sm" variant="ghost" onClick={onShowConsole}>
              <TerminalSquare /> Open console
            </Button>
          )}
        </>
      }
    >
      {/* The server also prints the reason into the output; say it once. */}
      {run.error && !lines.join("\n").includes(run.error) && <p className="whitespace-pre-wrap break-words">{run.error}</p>}
      {lines.length > 0 && (
        <pre
          data-testid="crash-output"
          className="max-h-64 overflow-auto rounded border border-border bg-background p-2 font-mono text-xs leading-snug whitespace-pre-wrap break-words"
        >
          {lines.join("\n")}
        </pre>
      )}
    </Problem>
  );
}
