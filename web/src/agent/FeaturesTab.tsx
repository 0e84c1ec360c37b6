import { CircleCheck } from "lucide-react";
import type { AgentRun } from "@/lib/api";

/** The Features tab: what the agent says it built, as a checklist, with its summary. */
export function FeaturesTab({ run }: { run: AgentRun }) {
  if (run.features.length === 0 && !run.summary) {
    return (
      <p className="text-[13px] text-muted-foreground">
        {run.status === "running"
          ? "When the agent finishes, it lists the features it built here."
          : "The agent didn't list any features for this run."}
      </p>
    );
  }
  return (
    <div className="grid gap-3 text-[13px]">
      {run.features.length > 0 && (
        <ul aria-label="Features" className="grid gap-1.5">
          {run.features.map((f, i) => (
            <li key={i} className="flex items-start gap-2">
              <CircleCheck className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
              <span className="text-foreground">{f}</span>
            </li>
          ))}
        </ul>
      )}
      {run.summary && (
        <section aria-label="Summary" className="grid gap-1">
          <h3 className="text-xs font-medium text-muted-foreground">Summary</h3>
          <p className="leading-relaxed break-words whitespace-pre-wrap text-foreground">{run.summary}</p>
        </section>
      )}
    </div>
  );
}
