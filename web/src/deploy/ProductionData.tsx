import { useQuery, useQueryClient } from "@tanstack/react-query";
import { RotateCcw } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { errorMessage, type Release } from "@/lib/api";
import { timeAgo } from "@/lib/format";
import { describeSnapshot, invalidateData, snapshotApi, type DataSnapshot } from "@/workspace/history/snapshots";

const prodSnapshotsKey = (projectId: string) => ["snapshots", projectId, "prod"] as const;

/**
 * Production's data as each deploy found it (database, keys, objects): a deploy that went wrong
 * with the data is undone here, the code by rolling the deployment back. Each restore can be undone.
 * latest is the newest release, whose build snapshots the data as it starts.
 */
export function ProductionData({ projectId, latest }: { projectId: string; latest?: Release }) {
  const qc = useQueryClient();
  // Asked again as the newest release moves on: its build keeps the data first.
  const list = useQuery({
    queryKey: [...prodSnapshotsKey(projectId), latest?.id, latest?.status],
    queryFn: () => snapshotApi.list(projectId, "prod"),
  });
  const [target, setTarget] = useState<DataSnapshot | null>(null);
  const snapshots = list.data ?? [];
  if (snapshots.length === 0) return null;

  async function restore(s: DataSnapshot, undoable: boolean): Promise<void> {
    try {
      const r = await snapshotApi.restoreData(projectId, s.id);
      invalidateData(qc, projectId, "prod");
      toast.success(undoable ? "Production's data restored" : "Restore undone", {
        description: `${describeSnapshot(r.snapshot)} are back as they were.`,
        duration: undoable ? 10_000 : undefined,
        action: undoable
          ? { label: "Undo", onClick: () => void restore({ ...r.snapshot, id: r.undo }, false) }
          : undefined,
      });
    } catch (err) {
      toast.error("Couldn't restore production's data", { description: errorMessage(err) });
    }
  }

  return (
    <section aria-labelledby="prod-data-heading" className="grid gap-2" data-testid="production-data">
      <h2 id="prod-data-heading" className="text-sm font-semibold">
        Production data
      </h2>
      <p className="text-muted-foreground">Kept before each deploy. Restoring brings back the data alone; roll back a release for its code.</p>
      <ol aria-label="Production data snapshots" className="divide-y divide-border rounded-md border border-border">
        {snapshots.map((s) => (
          <li key={s.id} className="flex items-center gap-2 px-2 py-1.5">
            <div className="min-w-0 flex-1">
              <p className="truncate text-foreground">
                {s.reason === "deploy" ? "Before the deploy of " : "Before a restore, "}
                <code className="font-mono">{s.commit ? s.commit.slice(0, 7) : "—"}</code>
              </p>
              <p className="truncate text-xs text-muted-foreground">
                {describeSnapshot(s)} · {timeAgo(s.createdAt)}
              </p>
            </div>
            <Button size="sm" variant="ghost" onClick={() => setTarget(s)}>
              <RotateCcw /> Restore
            </Button>
          </li>
        ))}
      </ol>
      <ConfirmDialog
        open={target !== null}
        onOpenChange={(open) => !open && setTarget(null)}
        title="Restore production's data?"
        description={
          target
            ? `Production's ${describeSnapshot(target)} go back to how they were. What production holds now is kept first, so you can undo this.`
            : ""
        }
        confirmLabel="Restore"
        onConfirm={() => (target ? restore(target, true) : undefined)}
      />
    </section>
  );
}
