import type { FileChange } from "@/lib/api";
import { cn } from "@/lib/utils";
import { diffStat } from "./describe";

function lineClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---")) return "text-muted-foreground";
  if (line.startsWith("@@")) return "text-link";
  if (line.startsWith("+")) return "bg-run/15 text-foreground";
  if (line.startsWith("-")) return "bg-destructive/15 text-foreground";
  return "text-muted-foreground";
}

/** A unified diff, one coloured line per line, in the code font. */
export function Diff({ diff }: { diff: string }) {
  const lines = diff.replace(/\n$/, "").split("\n");
  return (
    <pre className="overflow-x-auto rounded border border-border bg-background py-1 font-mono text-xs leading-5" data-testid="diff">
      {lines.map((line, i) => (
        <div key={i} className={cn("px-2 whitespace-pre", lineClass(line))}>
          {line || " "}
        </div>
      ))}
    </pre>
  );
}

const changeLabel: Record<FileChange["change"], string> = {
  created: "created",
  modified: "changed",
  deleted: "deleted",
  renamed: "renamed",
};

/**
 * A changed file: its path (and a renamed file's old one), what happened, +/- counts.
 * The counts are the server's when given (exact even where the diff was cut), else read from diffs.
 */
export function FileChangeHeader({
  path,
  from,
  change,
  diffs,
  counts,
}: {
  path: string;
  from?: string;
  change: FileChange["change"];
  diffs: string[];
  counts?: { added: number; removed: number };
}) {
  const stat = counts ?? diffStat(diffs);
  return (
    <span className="flex min-w-0 items-center gap-2 text-[13px]">
      <span className="truncate font-mono text-xs text-foreground" title={from ? `${from} → ${path}` : path}>
        {from && <span className="text-muted-foreground">{from} → </span>}
        {path}
      </span>
      <span className={cn("shrink-0 text-xs", change === "deleted" ? "text-destructive-text" : "text-muted-foreground")}>
        {changeLabel[change]}
      </span>
      <span className="ml-auto shrink-0 font-mono text-xs text-muted-foreground tabular-nums" title={`${stat.added} lines added, ${stat.removed} removed`}>
        +{stat.added} −{stat.removed}
      </span>
    </span>
  );
}
