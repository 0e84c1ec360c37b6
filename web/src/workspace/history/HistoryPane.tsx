import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ChevronRight, Clock, Database, History, RotateCcw, Save } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Input } from "@/components/ui/input";
import { Loading, Spinner } from "@/components/ui/spinner";
import { api, errorMessage, type Checkpoint } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { useProjectSession } from "../model";
import { CheckpointChanges } from "./CheckpointChanges";
import { historyKey, useRestore } from "./restore";
import { describeSnapshot, snapshotApi, snapshotsKey, useSnapshots, type DataSnapshot } from "./snapshots";

/** The History tab: the project's checkpoints, newest first; writers save new ones and restore old ones. */
export function HistoryPane() {
  const { project, canEdit } = useProjectSession();
  const id = project.id;
  // Automatic checkpoints appear as edits settle, so the list looks again now and then.
  const history = useQuery({ queryKey: historyKey(id), queryFn: () => api.history(id), refetchInterval: 5_000 });
  const [restoring, setRestoring] = useState<Checkpoint | null>(null);
  const [opened, setOpened] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const restore = useRestore();
  const snapshots = useSnapshots(id, canEdit);
  const restoringData = restoring ? snapshots.get(restoring.id) : undefined;
  const [withData, setWithData] = useState(true);

  return (
    <div className="flex h-full min-h-0 flex-col" data-testid="history-pane">
      {canEdit && <CheckpointForm />}
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
            {canEdit
              ? "A checkpoint saves every file as it is now, so you can come back to it later. Make one above."
              : "Checkpoints the owner saves will be listed here."}
          </EmptyState>
        ) : (
          <ol aria-label="Checkpoints" className="divide-y divide-border">
            {rowsOf(history.data).map((row) => {
              const item = (c: Checkpoint) => (
                <CheckpointItem
                  key={c.id}
                  checkpoint={c}
                  data={snapshots.get(c.id)}
                  latest={history.data[0]}
                  open={opened === c.id}
                  onToggle={() => setOpened(opened === c.id ? null : c.id)}
                  onRestore={
                    canEdit
                      ? () => {
                          setWithData(true);
                          setRestoring(c);
                        }
                      : undefined
                  }
                />
              );
              if (!Array.isArray(row)) return item(row);
              const key = row[0]!.id;
              const shown = expanded.has(key);
              return [
                <li key={`autos-${key}`} className="px-3 py-1.5">
                  <button
                    type="button"
                    aria-expanded={shown}
                    onClick={() => setExpanded(toggled(expanded, key))}
                    className="flex items-center gap-1 rounded text-xs text-muted-foreground hover:text-foreground focus-visible:outline-2 focus-visible:outline-ring"
                  >
                    <ChevronRight className={cn("size-3.5 transition-transform", shown && "rotate-90")} />
                    {row.length} automatic checkpoints
                  </button>
                </li>,
                ...(shown ? row.map(item) : []),
              ];
            })}
          </ol>
        )}
      </div>
      <ConfirmDialog
        open={restoring !== null}
        onOpenChange={(open) => !open && setRestoring(null)}
        title={`Restore ${restoring?.short ?? ""}?`}
        description={
          <span className="grid gap-3">
            <span>
              Every file goes back to how it was at “{restoring?.message || restoring?.short}”. Unsaved changes are kept
              as a checkpoint first, so you can undo this.
            </span>
            {restoringData && (
              <label className="flex items-start gap-2 text-foreground">
                <input
                  type="checkbox"
                  className="mt-0.5"
                  checked={withData}
                  onChange={(e) => setWithData(e.target.checked)}
                />
                <span>
                  Bring back its data too: {describeSnapshot(restoringData)}. Today&apos;s data is kept with the
                  checkpoint made first.
                </span>
              </label>
            )}
          </span>
        }
        confirmLabel={restoringData && withData ? "Restore code + data" : "Restore"}
        onConfirm={() => (restoring ? restore(restoring, true, !!restoringData && withData) : undefined)}
      />
    </div>
  );
}

/** A run of two or more automatic checkpoints folds into one row; the current checkpoint always shows. */
function rowsOf(list: Checkpoint[]): (Checkpoint | Checkpoint[])[] {
  const rows: (Checkpoint | Checkpoint[])[] = [];
  let run: Checkpoint[] = [];
  const flush = () => {
    if (run.length > 1) rows.push(run);
    else rows.push(...run);
    run = [];
  };
  list.forEach((c, i) => {
    if (c.auto && i > 0) {
      run.push(c);
      return;
    }
    flush();
    rows.push(c);
  });
  flush();
  return rows;
}

function toggled(set: ReadonlySet<string>, key: string): ReadonlySet<string> {
  const next = new Set(set);
  if (!next.delete(key)) next.add(key);
  return next;
}

/** One checkpoint: what it says, who and when; opened, what changed in it. */
function CheckpointItem({
  checkpoint: c,
  data,
  latest,
  open,
  onToggle,
  onRestore,
}: {
  checkpoint: Checkpoint;
  data: DataSnapshot | undefined;
  latest: Checkpoint | undefined;
  open: boolean;
  onToggle: () => void;
  onRestore?: () => void;
}) {
  return (
    <li className="px-3 py-2 text-[13px]" aria-label={c.message || c.short}>
      <div className="flex items-start gap-2">
        <button
          type="button"
          aria-expanded={open}
          onClick={onToggle}
          title={c.message}
          className="min-w-0 flex-1 rounded text-left focus-visible:outline-2 focus-visible:outline-ring"
        >
          <span className="flex min-w-0 items-center gap-1.5">
            <ChevronRight className={cn("size-3.5 shrink-0 text-muted-foreground transition-transform", open && "rotate-90")} />
            <span className={cn("truncate", c.auto ? "text-muted-foreground" : "font-medium text-foreground")}>
              {c.message || "(no message)"}
            </span>
            {c.auto && (
              <Badge className="shrink-0" title="Taken automatically">
                <Clock /> Auto
              </Badge>
            )}
            {data && (
              <Badge className="shrink-0" title={`With its data: ${describeSnapshot(data)}`}>
                <Database /> code + data
              </Badge>
            )}
          </span>
          <span className="block truncate pl-5 text-xs text-muted-foreground">
            <code className="font-mono">{c.short}</code> · {c.author} ·{" "}
            <time dateTime={new Date(c.time).toISOString()} title={formatDate(c.time)}>
              {timeAgo(c.time)}
            </time>
            {latest?.id === c.id && " · current"}
          </span>
        </button>
        {onRestore && (
          <Button size="sm" variant="ghost" onClick={onRestore} aria-label={`Restore ${c.short}`}>
            <RotateCcw /> Restore
          </Button>
        )}
      </div>
      {open && <CheckpointChanges checkpoint={c} latest={latest} />}
    </li>
  );
}

/** Saves a checkpoint now, with an optional message. */
function CheckpointForm() {
  const { store, project } = useProjectSession();
  const qc = useQueryClient();
  const [message, setMessage] = useState("");
  const [withData, setWithData] = useState(false);
  const [pending, setPending] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setPending(true);
    try {
      await store.saveAll();
      if (withData) {
        const r = await snapshotApi.create(project.id, message.trim());
        setMessage("");
        await qc.invalidateQueries({ queryKey: snapshotsKey(project.id) });
        await qc.invalidateQueries({ queryKey: historyKey(project.id) });
        toast.success(`Checkpoint ${r.checkpoint.short} saved with data`, {
          description: `Kept: the files, ${describeSnapshot(r.snapshot)}.`,
        });
        return;
      }
      const r = await api.createCheckpoint(project.id, message.trim());
      setMessage("");
      await qc.invalidateQueries({ queryKey: historyKey(project.id) });
      if (r.changed) toast.success(`Checkpoint ${r.checkpoint.short} saved`);
      else toast("Nothing changed since the last checkpoint");
    } catch (err) {
      toast.error("Couldn't save a checkpoint", { description: errorMessage(err) });
    } finally {
      setPending(false);
    }
  }

  return (
    <form onSubmit={(e) => void submit(e)} className="shrink-0 border-b border-border p-2">
      <div className="flex gap-2">
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
      </div>
      <label
        className="mt-1.5 flex items-center gap-2 text-xs text-muted-foreground"
        title="Keeps the development database, key-value entries and objects with the checkpoint"
      >
        <input type="checkbox" checked={withData} onChange={(e) => setWithData(e.target.checked)} />
        Checkpoint with data (database, keys, objects)
      </label>
    </form>
  );
}
