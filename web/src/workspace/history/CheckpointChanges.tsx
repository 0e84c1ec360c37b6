import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Diff, FileChangeHeader } from "@/agent/Diff";
import { Button } from "@/components/ui/button";
import { Loading } from "@/components/ui/spinner";
import { api, errorMessage, type Checkpoint } from "@/lib/api";
import { useProjectSession } from "../model";

/** Files open at first: a small checkpoint shows its lines at once, a large one its list. */
const openFirst = 5;

/**
 * What changed at a checkpoint: each file with its +/- counts, opening to its lines.
 * "Since then" compares it with the latest checkpoint instead of the one before it.
 */
export function CheckpointChanges({ checkpoint, latest }: { checkpoint: Checkpoint; latest: Checkpoint | undefined }) {
  const id = useProjectSession().project.id;
  const canCompare = latest !== undefined && latest.id !== checkpoint.id;
  const [sinceThen, setSinceThen] = useState(false);
  const against = sinceThen && canCompare ? latest : undefined;
  // Checkpoints never change, so neither does what changed between two of them.
  const diff = useQuery({
    queryKey: ["checkpoint-diff", id, checkpoint.id, against?.id ?? ""],
    queryFn: () => (against ? api.checkpointDiff(id, against.id, checkpoint.id) : api.checkpointDiff(id, checkpoint.id)),
    staleTime: Infinity,
  });

  return (
    <div className="grid grid-cols-1 gap-2 pt-2" data-testid="checkpoint-changes">
      {canCompare && (
        <div role="group" aria-label="Compare" className="flex gap-1">
          <Button size="sm" variant={sinceThen ? "ghost" : "secondary"} aria-pressed={!sinceThen} onClick={() => setSinceThen(false)}>
            Changes in this checkpoint
          </Button>
          <Button size="sm" variant={sinceThen ? "secondary" : "ghost"} aria-pressed={sinceThen} onClick={() => setSinceThen(true)}>
            Since then
          </Button>
        </div>
      )}
      {diff.isPending ? (
        <Loading label="Loading changes" />
      ) : diff.isError ? (
        <div className="flex items-center gap-2 text-xs">
          <span role="alert" className="text-destructive-text">
            Couldn't load the changes: {errorMessage(diff.error)}
          </span>
          <Button size="sm" variant="ghost" onClick={() => void diff.refetch()}>
            Try again
          </Button>
        </div>
      ) : diff.data.files.length === 0 ? (
        <p className="text-xs text-muted-foreground">
          {against ? "The files are the same as in the latest checkpoint." : "No files changed in this checkpoint."}
        </p>
      ) : (
        <ul aria-label="Changed files" className="grid grid-cols-1 gap-1.5">
          {diff.data.files.map((f, i) => (
            <li key={f.path}>
              <details open={i < openFirst} className="rounded-md border border-border">
                <summary className="cursor-pointer list-none rounded-md px-2 py-1.5 hover:bg-muted">
                  <FileChangeHeader
                    path={f.path}
                    from={f.from}
                    change={f.change}
                    diffs={f.diff ? [f.diff] : []}
                    counts={{ added: f.added, removed: f.removed }}
                  />
                </summary>
                <div className="border-t border-border p-2">
                  {f.diff ? <Diff diff={f.diff} /> : <p className="text-xs text-muted-foreground">{f.note ?? "No lines changed."}</p>}
                </div>
              </details>
            </li>
          ))}
          {diff.data.truncated && (
            <li className="text-xs text-muted-foreground">More files changed than can be listed here.</li>
          )}
        </ul>
      )}
    </div>
  );
}
