import type { AgentFileChange, AgentStep } from "@/lib/api";
import { Diff, FileChangeHeader } from "./Diff";

interface FileSummary {
  path: string;
  change: AgentFileChange["change"];
  diffs: string[];
  /** Why there are no lines to show (a binary or very large file). */
  note?: string;
}

/** Every file the run touched, once each, with all its diffs in order; created-then-changed reads as created. */
export function changedFiles(steps: AgentStep[]): FileSummary[] {
  const byPath = new Map<string, FileSummary>();
  for (const step of steps) {
    for (const f of step.files ?? []) {
      const seen = byPath.get(f.path);
      if (!seen) byPath.set(f.path, { path: f.path, change: f.change, diffs: f.diff ? [f.diff] : [], note: f.note });
      else {
        if (f.diff) seen.diffs.push(f.diff);
        if (f.note) seen.note = f.note;
        if (f.change === "deleted" || seen.change === "deleted") seen.change = f.change;
      }
    }
  }
  return [...byPath.values()];
}

/** The Files tab: what the run created, changed and deleted, as diffs. */
export function FilesTab({ steps, running }: { steps: AgentStep[]; running: boolean }) {
  const files = changedFiles(steps);
  if (files.length === 0) {
    return (
      <p className="text-[13px] text-muted-foreground">
        {running ? "No files changed yet. Each file the agent writes shows here as a diff." : "This run didn't change any files."}
      </p>
    );
  }
  return (
    <ul aria-label="Changed files" className="grid grid-cols-1 gap-2">
      {files.map((f) => (
        <li key={f.path}>
          <details open className="group rounded-md border border-border">
            <summary className="cursor-pointer list-none rounded-md px-2 py-1.5 hover:bg-muted">
              <FileChangeHeader path={f.path} change={f.change} diffs={f.diffs} />
            </summary>
            <div className="grid grid-cols-1 gap-1.5 border-t border-border p-2">
              {f.diffs.length === 0 ? (
                <p className="text-xs text-muted-foreground">{f.note ?? "No diff to show."}</p>
              ) : (
                f.diffs.map((d, i) => <Diff key={i} diff={d} />)
              )}
            </div>
          </details>
        </li>
      ))}
    </ul>
  );
}
