import { Square } from "lucide-react";
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import type { AgentRun } from "@/lib/api";
import { formatDuration } from "@/lib/format";
import { currentActivity, formatTokens } from "./describe";

/** Milliseconds since start, ticking every second until end is known. */
function useElapsed(start: number, end: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (end !== null) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [end]);
  return Math.max(0, (end ?? now) - start);
}

/** While the agent works: what it is doing now, for how long, how many steps and tokens; and Stop. */
export function ProgressLine({ run, onStop, stopping }: { run: AgentRun; onStop?: () => void; stopping: boolean }) {
  const elapsed = useElapsed(run.createdAt, run.finishedAt);
  const steps = run.steps?.length ?? 0;
  return (
    <div className="flex shrink-0 items-center gap-2 border-t border-border bg-muted/50 px-3 py-1.5 text-xs" data-testid="agent-progress">
      <Spinner className="size-3.5 shrink-0" />
      <div className="min-w-0 flex-1">
        <p role="status" className="truncate text-foreground">
          {stopping ? "Stopping…" : currentActivity(run)}
        </p>
        <p className="truncate text-muted-foreground tabular-nums">
          {formatDuration(elapsed)} · {steps} {steps === 1 ? "step" : "steps"} · {formatTokens(run)}
        </p>
      </div>
      {onStop && (
        <Button size="sm" variant="secondary" onClick={onStop} disabled={stopping}>
          {stopping ? <Spinner className="text-current" /> : <Square className="fill-current" />} Stop
        </Button>
      )}
    </div>
  );
}
