import { useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { api, errorMessage, type Checkpoint } from "@/lib/api";
import { runConfigKey } from "@/run/runs";
import { filesKey } from "../files/useFileOps";
import { useProjectSession } from "../model";
import { describeSnapshot, invalidateData, snapshotApi } from "./snapshots";

export const historyKey = (projectId: string) => ["history", projectId] as const;

/** A checkpoint to go back to: its hash and the short form people read. */
export interface RestoreTarget {
  id: string;
  short: string;
}

/**
 * Restoring a checkpoint, as the History tab and the agent's "Roll back" do it:
 * restores target (with its data when withData: the database, keys and objects
 * of that moment), then brings the tree and open tabs up to date and offers to
 * undo (by restoring the "Before restoring" checkpoint the server made, which
 * holds the data of the moment before too).
 */
export function useRestore() {
  const { project, store } = useProjectSession();
  const qc = useQueryClient();
  const id = project.id;

  async function restore(target: RestoreTarget, undoable = true, withData = false): Promise<void> {
    // Edits still waiting for autosave go to disk first, so the server checkpoints them too.
    await store.saveAll();
    let head: Checkpoint;
    let undo: RestoreTarget | undefined;
    let brought: string | undefined;
    if (withData) {
      const r = await snapshotApi.restore(id, target.id);
      head = r.checkpoint;
      undo = { id: r.undo, short: r.undo.slice(0, 7) };
      brought = `Files, ${describeSnapshot(r.snapshot)} are back as they were.`;
      invalidateData(qc, id, "dev");
    } else {
      head = await api.restore(id, target.id);
    }
    store.reloadAll();
    void qc.invalidateQueries({ queryKey: filesKey(id) });
    void qc.invalidateQueries({ queryKey: runConfigKey(id) });
    const list = await qc.fetchQuery({ queryKey: historyKey(id), queryFn: () => api.history(id), staleTime: 0 });
    // The entry under the new head is the state just before the restore (its "Before restoring" checkpoint, if any).
    const before = undo ?? (list[0]?.id === head.id ? list[1] : undefined);
    toast.success(withData ? `Restored ${target.short} with its data` : `Restored to ${target.short}`, {
      description: brought,
      // Long enough to read what else the restore said (tabs of files it took away) and still undo.
      duration: undoable && before ? 10_000 : undefined,
      action:
        undoable && before
          ? {
              label: "Undo",
              onClick: () =>
                void restore(before, false, withData).catch((err: unknown) =>
                  toast.error("Couldn't undo the restore", { description: errorMessage(err) }),
                ),
            }
          : undefined,
    });
  }

  return restore;
}
