import { CircleCheck, CircleHelp, CircleStop, FileDiff, Globe, RotateCcw, TriangleAlert, type LucideIcon } from "lucide-react";
import type { ReactNode } from "react";
import { OutOfCredits } from "@/billing/OutOfCredits";
import { Button } from "@/components/ui/button";
import type { AgentRun } from "@/lib/api";
import { cn } from "@/lib/utils";
import { useProjectSession } from "@/workspace/model";

function Outcome({ icon: Icon, title, tone, children, action }: { icon: LucideIcon; title: string; tone?: "bad" | "ask"; children?: ReactNode; action?: ReactNode }) {
  return (
    <section
      role={tone === "bad" ? "alert" : undefined}
      aria-label={title}
      data-testid="agent-outcome"
      className={cn(
        "grid gap-2 rounded-md border px-3 py-2.5 text-[13px]",
        tone === "bad" ? "border-destructive-text/40 bg-destructive/10" : tone === "ask" ? "border-warning/50 bg-warning/10" : "border-border bg-muted/50",
      )}
    >
      <h3 className={cn("flex items-center gap-1.5 font-semibold", tone === "bad" ? "text-destructive-text" : "text-foreground")}>
        <Icon className="size-4 shrink-0" aria-hidden /> {title}
      </h3>
      {children && <div className="leading-relaxed break-words whitespace-pre-wrap text-foreground">{children}</div>}
      {action && <div className="flex gap-2">{action}</div>}
    </section>
  );
}

interface RunOutcomeProps {
  run: AgentRun;
  onRetry?: () => void;
  retrying: boolean;
  /** Switches the run's view to its Preview or Files tab. */
  onShow: (tab: "preview" | "files") => void;
}

/** How a finished run ended, and what the person can do next. Nothing while it runs. */
export function RunOutcome({ run, onRetry, retrying, onShow }: RunOutcomeProps) {
  const steps = run.steps ?? [];
  const review = steps.some((s) => s.files?.length) && (
    <Button size="sm" variant="ghost" onClick={() => onShow("files")}>
      <FileDiff /> Review changes
    </Button>
  );
  const preview = steps.some((s) => s.tool === "start_app") && (
    <Button size="sm" variant="secondary" onClick={() => onShow("preview")}>
      <Globe /> Open preview
    </Button>
  );
  const retry = onRetry && (
    <Button size="sm" variant="secondary" onClick={onRetry} disabled={retrying}>
      <RotateCcw /> Retry
    </Button>
  );
  switch (run.status) {
    case "running":
      return null;
    case "done":
      return (
        <Outcome
          icon={CircleCheck}
          title="Done"
          action={
            (preview || review) && (
              <>
                {preview}
                {review}
              </>
            )
          }
        >
          {run.summary || "The agent finished without a summary."}
        </Outcome>
      );
    case "needs_input":
      return (
        <Outcome icon={CircleHelp} title="The agent has a question" tone="ask">
          {run.needsInput || "The agent stopped to check with you before going on."}
          <p className="mt-1 text-xs text-muted-foreground">
            {run.noProgress && "It wasn't getting anywhere, so it stopped to ask. "}Answer below; your answer starts the
            next run.
          </p>
        </Outcome>
      );
    case "stopped":
      return (
        <Outcome
          icon={CircleStop}
          title="Stopped"
          action={
            <>
              {retry}
              {review}
            </>
          }
        >
          {run.summary || "The agent was stopped before it finished. Files it changed so far are kept; roll back in the Files tab to undo them."}
        </Outcome>
      );
    case "failed":
      if (run.error?.code === "out_of_credits") return <StoppedOutOfCredits review={review} />;
      return (
        <Outcome
          icon={TriangleAlert}
          title="The agent couldn't finish"
          tone="bad"
          action={
            <>
              {retry}
              {review}
            </>
          }
        >
          {run.error?.message ?? "Something went wrong while the agent worked."}
          {run.error && !run.error.retryable && (
            <p className="mt-1 text-xs text-muted-foreground">Trying again may not help until this is fixed.</p>
          )}
        </Outcome>
      );
  }
}

/** The run used up its payer's credits part-way: where to top up, and that its work so far is kept. */
function StoppedOutOfCredits({ review }: { review: ReactNode }) {
  const { project } = useProjectSession();
  return (
    <section
      aria-label="Out of credits"
      data-testid="agent-outcome"
      className="grid gap-2 rounded-md border border-destructive-text/40 bg-destructive/10 px-3 py-2.5 text-[13px]"
    >
      <OutOfCredits project={project} what="agent" />
      <p className="text-xs text-muted-foreground">The agent stopped here; the files it changed so far are kept.</p>
      {review && <div className="flex gap-2">{review}</div>}
    </section>
  );
}
