import { useQuery, useQueryClient } from "@tanstack/react-query";
import { History, RotateCcw, Save } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Input } from "@/components/ui/input";
import { Loading, Spinner } from "@/components/ui/spinner";
import { api, errorMessage, type Checkpoint } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { useWorkspace } from "../model";
import { historyKey, useRestore } from "./restore";

/** The History tab: the project's checkpoints, newest first; writers save new ones and restore old ones. */
export function HistoryPane() {
  const m = useWorkspace();
  const id = m.project.id;
  const history = useQuery({ queryKey: historyKey(id), queryFn: () => api.history(id) });
  const [restoring, setRestoring] = useState<Checkpoint | null>(null);
  const restore = useRestore();

  return (
    <div className="flex h-full min-h-0 flex-col" data-testid="history-pane">
      {m.canEdit && <CheckpointForm />}
      <div className="min-h-0 flex-1 overflow-auto">
        {history.isPending ? (
          <Loading label="Loading history" />
        ) : history.isError ? (
          <EmptyState
            icon={History}
            title="Couldn't load the history"
            action={<Button onClick={() => void history.refetch()}>Try again</Button>}
          >
            <span role="alert">{errorMessage(history.error)}</span>
          </EmptyState>
        ) : history.data.length === 0 ? (
          <EmptyState icon={History} title="No checkpoints yet">
            {m.canEdit
              ? "A checkpoint saves every file as it is now, so you can come back to it later. Make one above."
              : "Checkpoints the owner saves will be listed here."}
          </EmptyState>
        ) : (
          <ol aria-label="Checkpoints" className="divide-y divide-border">
            {history.data.map((c, i) => (
              <li key={c.id} className="group flex items-start gap-2 px-3 py-2 text-[13px]" aria-label={c.message || c.short}>
                <div className="min-w-0 flex-1">
                  <p className="truncate font-medium text-foreground" title={c.message}>
                    {c.message || "(no message)"}
                  </p>
                  <p className="truncate text-xs text-muted-foreground">
                    <code className="font-mono">{c.short}</code> · {c.author} ·{" "}
                    <time dateTime={new Date(c.time).toISOString()} title={formatDate(c.time)}>
                      {timeAgo(c.time)}
                    </time>
                    {i === 0 && " · current"}
                  </p>
                </div>
                {m.canEdit && (
                  <Button size="sm" variant="ghost" onClick={() => setRestoring(c)} aria-label={`Restore ${c.short}`}>
                    <RotateCcw /> Restore
                  </Button>
                )}
              </li>
            ))}
          </ol>
        )}
      </div>
      <ConfirmDialog
        open={restoring !== null}
        onOpenChange={(open) => !open && setRestoring(null)}
        title={`Restore ${restoring?.short ?? ""}?`}
        description={
          <>
            Every file goes back to how it was at “{restoring?.message || restoring?.short}”. Unsaved changes are kept
            as a checkpoint first, so you can undo this.
          </>
        }
        confirmLabel="Restore"
        onConfirm={() => (restoring ? restore(restoring) : undefined)}
      />
    </div>
  );
}

/** Saves a checkpoint now, with an optional message. */
function CheckpointForm() {
  const m = useWorkspace();
  const qc = useQueryClient();
  const [message, setMessage] = useState("");
  const [pending, setPending] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    try {
      await m.store.saveAll();
      const r = await api.createCheckpoint(m.project.id, message.trim());
      setMessage("");
      await qc.invalidateQueries({ queryKey: historyKey(m.project.id) });
      if (r.changed) toast.success(`Checkpoint ${r.checkpoint.short} saved`);
      else toast("Nothing changed since the last checkpoint");
    } catch (err) {
      toast.error("Couldn't save a checkpoint", { description: errorMessage(err) });
    } finally {
      setPending(false);
    }
  }

  return (
    <form onSubmit={(e) => void submit(e)} className="flex shrink-0 gap-2 border-b border-border p-2">
      <Input
        aria-label="Checkpoint message"
        placeholder="What changed? (optional)"
        value={message}
        maxLength={200}
        onChange={(e) => setMessage(e.target.value)}
        className="h-8 text-[13px]"
      />
      <Button type="submit" variant="primary" disabled={pending}>
        {pending ? <Spinner className="text-current" /> : <Save />} Checkpoint
      </Button>
    </form>
  );
}
