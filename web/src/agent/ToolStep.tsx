import { Check, ChevronRight, X } from "lucide-react";
import { useId, useState, type ReactNode } from "react";
import { Spinner } from "@/components/ui/spinner";
import type { AgentStep } from "@/lib/api";
import { formatDuration } from "@/lib/format";
import { cn } from "@/lib/utils";
import { diffStat, keyArgument } from "./describe";
import { Diff, FileChangeHeader } from "./Diff";

function StatusIcon({ status }: { status: AgentStep["status"] }) {
  if (status === "running") return <Spinner label="running" className="size-3.5" />;
  if (status === "error") return <X className="size-3.5 shrink-0 text-destructive-text" role="img" aria-label="failed" />;
  return <Check className="size-3.5 shrink-0 text-muted-foreground" role="img" aria-label="done" />;
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-1 gap-1">
      <h4 className="text-xs font-medium text-muted-foreground">{title}</h4>
      {children}
    </div>
  );
}

const codeBlock = "max-h-64 overflow-auto rounded border border-border bg-background p-2 font-mono text-xs whitespace-pre-wrap break-words";

/** One tool call: a compact row (tool, what it was about, how long) that opens to its input, output and diffs. */
export function ToolStep({ step }: { step: AgentStep }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const arg = keyArgument(step);
  const files = step.files ?? [];
  const stat = diffStat(files.map((f) => f.diff));
  return (
    <li className="rounded-md border border-border bg-background/40" data-testid="agent-tool-step" data-tool={step.tool}>
      <button
        type="button"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen(!open)}
        className="flex w-full min-w-0 items-center gap-2 rounded-md px-2 py-1.5 text-left hover:bg-muted"
      >
        <ChevronRight className={cn("size-3.5 shrink-0 text-muted-foreground transition-transform duration-100", open && "rotate-90")} aria-hidden />
        <StatusIcon status={step.status} />
        <span className="shrink-0 font-mono text-xs text-foreground">{step.tool}</span>
        {arg && (
          <span className="min-w-0 truncate font-mono text-xs text-muted-foreground" title={arg}>
            {arg}
          </span>
        )}
        <span className="ml-auto flex shrink-0 items-center gap-2 text-xs text-muted-foreground tabular-nums">
          {files.length > 0 && (
            <span className="font-mono">
              +{stat.added} −{stat.removed}
            </span>
          )}
          {step.durationMs !== undefined && <span>{formatDuration(step.durationMs)}</span>}
        </span>
      </button>
      {open && (
        <div id={id} className="grid grid-cols-1 gap-2 border-t border-border p-2">
          <Section title="Input">
            <pre className={codeBlock}>{JSON.stringify(step.input ?? {}, null, 2)}</pre>
          </Section>
          {step.output !== undefined && step.output !== "" && (
            <Section title="Output">
              <pre className={cn(codeBlock, step.status === "error" && "text-destructive-text")}>{step.output}</pre>
            </Section>
          )}
          {files.map((f) => (
            <Section key={f.path} title="Change">
              <FileChangeHeader path={f.path} change={f.change} diffs={[f.diff]} />
              {f.diff ? <Diff diff={f.diff} /> : f.note && <p className="text-xs text-muted-foreground">{f.note}</p>}
            </Section>
          ))}
        </div>
      )}
    </li>
  );
}
