import { RotateCcw } from "lucide-react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import type { AgentCheckpoint } from "@/lib/api";
import { useRestore } from "@/workspace/history/restore";
import { describeSnapshot, useSnapshots } from "@/workspace/history/snapshots";
import { useProjectSession } from "@/workspace/model";

const label = (c: AgentCheckpoint) => (c.step === 0 ? "Before the agent started" : `After step ${c.step}`);

/**
 * The checkpoints the agent made as it went, each one a way back: rolling back
 * restores the project's files as they were then, and its data when the agent
 * kept it with that checkpoint (undone from its toast either way).
 */
export function Checkpoints({ checkpoints, disabled }: { checkpoints: AgentCheckpoint[]; disabled?: string }) {
  const restore = useRestore();
  const { project, canEdit } = useProjectSession();
  const snapshots = useSnapshots(project.id, canEdit);
  const [target, setTarget] = useState<AgentCheckpoint | null>(null);
  const kept = target ? snapshots.get(target.hash) : undefined; // its data, when the agent kept it
  if (checkpoints.length === 0) return null;
  const sorted = [...checkpoints].sort((a, b) => a.step - b.step);
  return (
    <section aria-labelledby="agent-checkpoints" className="grid grid-cols-1 gap-1.5">
      <h3 id="agent-checkpoints" className="text-xs font-medium text-muted-foreground">
        Checkpoints
      </h3>
      {disabled && <p className="text-xs text-muted-foreground">{disabled}</p>}
      <ol aria-label="Agent checkpoints" className="divide-y divide-border rounded-md border border-border">
        {sorted.map((c) => (
          <li key={c.hash} aria-label={label(c)} className="flex items-center gap-2 px-2 py-1.5 text-[13px]">
            <div className="min-w-0 flex-1">
              <p className="truncate text-foreground">{label(c)}</p>
              <p className="truncate text-xs text-muted-foreground" title={c.message}>
                <code className="font-mono">{c.hash.slice(0, 7)}</code>
                {c.message && ` · ${c.message}`}
              </p>
            </div>
            <Button size="sm" variant="ghost" disabled={!!disabled} onClick={() => setTarget(c)}>
              <RotateCcw /> Roll back to here
            </Button>
          </li>
        ))}
      </ol>
      <ConfirmDialog
        open={target !== null}
        onOpenChange={(open) => !open && setTarget(null)}
        title={`Roll back to “${target ? label(target) : ""}”?`}
        description={
          kept
            ? `Every file, ${describeSnapshot(kept)} go back to how they were at that point. What you have now is kept first, so you can undo this.`
            : "Every file goes back to how it was at that point. Your current files are kept as a checkpoint first, so you can undo this."
        }
        confirmLabel="Roll back"
        onConfirm={() =>
          target ? restore({ id: target.hash, short: target.hash.slice(0, 7) }, true, kept !== undefined) : undefined
        }
      />
    </section>
  );
}
