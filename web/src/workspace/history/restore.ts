import { useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { api, errorMessage } from "@/lib/api";
import { runConfigKey } from "@/run/runs";
import { filesKey } from "../files/useFileOps";
import { useWorkspace } from "../model";

export const historyKey = (projectId: string) => ["history", projectId] as const;

/** A checkpoint to go back to: its hash and the short form people read. */
export interface RestoreTarget {
  id: string;
  short: string;
}

/**
 * Restoring a checkpoint, as the History tab and the agent's "Roll back" do it:
 * restores target, then brings the tree and open tabs up to date and offers
 * to undo (by restoring the "Before restoring" checkpoint the server made).
 */
export function useRestore() {
  const m = useWorkspace();
  const qc = useQueryClient();
  const id = m.project.id;

  async function restore(target: RestoreTarget, undoable = true): Promise<void> {
    // Edits still waiting for autosave go to disk first, so the server checkpoints them too.
    await m.store.saveAll();
    const head = await api.restore(id, target.id);
    m.store.reloadAll();
    void qc.invalidateQueries({ queryKey: filesKey(id) });
    void qc.invalidateQueries({ queryKey: runConfigKey(id) });
    const list = await qc.fetchQuery({ queryKey: historyKey(id), queryFn: () => api.history(id), staleTime: 0 });
    // The entry under the new head is the state just before the restore (its "Before restoring" checkpoint, if any).
    const before = list[0]?.id === head.id ? list[1] : undefined;
    toast.success(`Restored to ${target.short}`, {
      action:
        undoable && before
          ? {
              label: "Undo",
              onClick: () =>
                void restore(before, false).catch((err: unknown) =>
                  toast.error("Couldn't undo the restore", { description: errorMessage(err) }),
                ),
            }
          : undefined,
    });
  }

  return restore;
}
