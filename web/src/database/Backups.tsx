import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ArchiveRestore, DatabaseBackup as BackupIcon, Download, Trash2, Upload } from "lucide-react";
import { useRef, useState } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading, Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { formatDate, formatDuration, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { dbApi, type DatabaseBackup, type DatabaseEnv } from "./api";
import { sizeText } from "./bytes";
import { dbKeys, useBackups } from "./queries";

const kinds: Record<DatabaseBackup["kind"], string> = {
  manual: "Manual",
  daily: "Daily",
  "pre-restore": "Before a restore",
  "pre-copy": "Before a copy from dev",
  upload: "Uploaded",
};

interface BackupsProps {
  projectId: string;
  env: DatabaseEnv;
  canEdit: boolean;
  /** A restore finished; undo is the backup of what was there before it. */
  onRestored: (undo: DatabaseBackup) => void;
}

/** The database's backups: take one, upload a dump, download, restore (undoably) and delete. */
export function Backups({ projectId, env, canEdit, onRestored }: BackupsProps) {
  const qc = useQueryClient();
  const list = useBackups(projectId, env);
  const [restoring, setRestoring] = useState<DatabaseBackup | null>(null);
  const [deleting, setDeleting] = useState<DatabaseBackup | null>(null);
  const file = useRef<HTMLInputElement>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: dbKeys.backups(projectId, env) });

  const backUp = useMutation({
    mutationFn: () => dbApi.backUp(projectId, env),
    onSuccess: (b) => toast.success("Backed up", { description: `${sizeText(b.sizeBytes)} in ${formatDuration(b.tookMs)}` }),
    onError: (err) => toast.error("Couldn't back up", { description: errorMessage(err) }),
    onSettled: refresh,
  });
  const upload = useMutation({
    mutationFn: (f: File) => dbApi.upload(projectId, env, f),
    onSuccess: () => toast.success("Dump uploaded", { description: "Restore it from the list to load it." }),
    onError: (err) => toast.error("Couldn't upload the dump", { description: errorMessage(err) }),
    onSettled: refresh,
  });

  return (
    <div className="grid content-start gap-3 p-3 text-[13px]" data-testid="database-backups">
      {canEdit && (
        <div className="flex flex-wrap items-center gap-2">
          <Button variant="primary" size="sm" onClick={() => backUp.mutate()} disabled={backUp.isPending}>
            {backUp.isPending ? <Spinner className="text-current" /> : <BackupIcon />} Back up now
          </Button>
          <Button size="sm" onClick={() => file.current?.click()} disabled={upload.isPending}>
            {upload.isPending ? <Spinner className="text-current" /> : <Upload />} Upload a dump
          </Button>
          <input
            ref={file}
            type="file"
            aria-label="Dump file"
            className="hidden"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = "";
              if (f) upload.mutate(f);
            }}
          />
          <p className="basis-full text-xs text-muted-foreground">
            Daily backups are taken on their own and the last 7 kept. A dump to upload is made with{" "}
            <code className="font-mono">pg_dump -Fc</code>.
          </p>
        </div>
      )}
      {list.isPending && <Loading label="Loading backups" />}
      {list.isError && <ErrorState error={list.error} onRetry={() => void list.refetch()} />}
      {list.data?.length === 0 && (
        <EmptyState icon={BackupIcon} title="No backups yet">
          A backup is a snapshot of the whole database, to download or to restore later.
        </EmptyState>
      )}
      {list.data && list.data.length > 0 && (
        <ul aria-label="Backups" className="grid gap-2">
          {list.data.map((b) => (
            <BackupRow
              key={b.id}
              backup={b}
              canEdit={canEdit}
              downloadUrl={dbApi.downloadUrl(projectId, env, b.id)}
              onRestore={() => setRestoring(b)}
              onDelete={() => setDeleting(b)}
            />
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={restoring !== null}
        onOpenChange={(open) => !open && setRestoring(null)}
        title="Restore this backup?"
        description={
          restoring &&
          `The database becomes what it was at ${formatDate(restoring.createdAt)}. ` +
            "Its current state is backed up first, so the restore can be undone."
        }
        confirmLabel="Restore"
        onConfirm={async () => {
          if (!restoring) return;
          const done = await dbApi.restore(projectId, env, restoring.id);
          await qc.invalidateQueries({ queryKey: dbKeys.env(projectId, env) });
          onRestored(done.undo);
        }}
      />
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        title="Delete this backup?"
        description={deleting && `The ${kinds[deleting.kind].toLowerCase()} backup of ${formatDate(deleting.createdAt)} goes for good.`}
        confirmLabel="Delete backup"
        destructive
        onConfirm={async () => {
          if (!deleting) return;
          await dbApi.deleteBackup(projectId, env, deleting.id);
          await refresh();
          toast.success("Backup deleted");
        }}
      />
    </div>
  );
}

interface BackupRowProps {
  backup: DatabaseBackup;
  canEdit: boolean;
  downloadUrl: string;
  onRestore: () => void;
  onDelete: () => void;
}

function BackupRow({ backup: b, canEdit, downloadUrl, onRestore, onDelete }: BackupRowProps) {
  const done = b.status === "done";
  return (
    <li aria-label={`${kinds[b.kind]} backup, ${formatDate(b.createdAt)}`} className="grid gap-1 rounded-md border border-border px-3 py-2">
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium">{kinds[b.kind]}</span>
        <span className="text-muted-foreground" title={formatDate(b.createdAt)}>
          {timeAgo(b.createdAt)}
        </span>
        {b.status !== "done" && (
          <Badge className={cn(b.status === "failed" && "border-destructive-text/50 text-destructive-text")}>
            {b.status === "running" && <Spinner className="size-3" />}
            {b.status}
          </Badge>
        )}
        <span className="ml-auto text-xs text-muted-foreground">{done && sizeText(b.sizeBytes)}</span>
      </div>
      {b.error && <p className="text-xs text-destructive-text">{b.error}</p>}
      {canEdit && (
        <div className="flex flex-wrap gap-1">
          {done && (
            <>
              <Button asChild variant="ghost" size="sm">
                <a href={downloadUrl} download>
                  <Download /> Download
                </a>
              </Button>
              <Button variant="ghost" size="sm" onClick={onRestore}>
                <ArchiveRestore /> Restore
              </Button>
            </>
          )}
          <Button variant="ghost" size="sm" onClick={onDelete} aria-label="Delete backup">
            <Trash2 /> Delete
          </Button>
        </div>
      )}
    </li>
  );
}
