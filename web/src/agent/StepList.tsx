import type { AgentStep } from "@/lib/api";
import { ToolStep } from "./ToolStep";

/** The agent's words and tool calls, in order, as they stream in. */
export function StepList({ steps, live }: { steps: AgentStep[]; live: boolean }) {
  const last = steps.at(-1);
  return (
    <ol aria-label="Agent steps" className="grid grid-cols-1 gap-1.5">
      {steps.map((step) =>
        step.kind === "tool" ? (
          <ToolStep key={step.n} step={step} />
        ) : (
          <li key={step.n} className="px-0.5 py-1 text-[13px] leading-relaxed break-words whitespace-pre-wrap text-foreground">
            {step.text}
            {live && step === last && (
              <span className="ml-0.5 inline-block h-3.5 w-1.5 animate-pulse bg-muted-foreground align-middle motion-reduce:animate-none" aria-hidden />
            )}
          </li>
        ),
      )}
    </ol>
  );
}
