import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Database as DatabaseIcon, RefreshCw, TriangleAlert } from "lucide-react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { Segmented } from "@/deploy/Segmented";
import { errorMessage } from "@/lib/api";
import { formatDuration, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { dbApi, type Database, type DatabaseEnv } from "./api";
import { sizeText } from "./bytes";
import { CopyToProd } from "./CopyToProd";
import { dbKeys } from "./queries";

interface HeaderProps {
  projectId: string;
  db: Database;
  /** The environments that have a database; the switch shows when there are two. */
  envs: DatabaseEnv[];
  onEnv: (env: DatabaseEnv) => void;
  canEdit: boolean;
}

const envNames: Record<DatabaseEnv, string> = { dev: "Development", prod: "Production" };

/** A limit's length in the words people set it in: "1 min", "30 s". */
function durationText(ms: number): string {
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return formatDuration(ms);
}

/** The database's name, how full it is against its quota, its limits, and which environment is shown. */
export function DatabaseHeader({ projectId, db, envs, onEnv, canEdit }: HeaderProps) {
  const qc = useQueryClient();
  const refresh = useMutation({
    mutationFn: () => dbApi.refreshSize(projectId, db.env),
    onSuccess: (fresh) => {
      void qc.invalidateQueries({ queryKey: dbKeys.all(projectId), exact: true });
      toast.success(fresh.readOnly ? "Still over the quota" : "Size measured", { description: sizeText(fresh.sizeBytes) });
    },
    onError: (err) => toast.error("Couldn't measure the size", { description: errorMessage(err) }),
  });
  const share = db.quotaBytes > 0 ? Math.min(db.sizeBytes / db.quotaBytes, 1) : 0;
  return (
    <section aria-label="Database" className="grid gap-2 border-b border-border p-3 text-[13px]">
      <div className="flex flex-wrap items-center gap-2">
        <DatabaseIcon className="size-4 text-muted-foreground" aria-hidden />
        <h2 className="min-w-0 truncate font-mono font-medium" data-testid="database-name">
          {db.name}
        </h2>
        <span className="text-xs text-muted-foreground">PostgreSQL · {envNames[db.env]}</span>
        {envs.length > 1 && (
          <Segmented
            label="Environment"
            value={db.env}
            onChange={onEnv}
            options={envs.map((e) => ({ value: e, label: e }))}
          />
        )}
        {canEdit && envs.includes("dev") && (
          <span className="ml-auto">
            <CopyToProd projectId={projectId} hasProd={envs.includes("prod")} onCopied={onEnv} />
          </span>
        )}
      </div>
      {db.quotaBytes > 0 && (
        <div className="grid gap-1">
          <div
            role="meter"
            aria-label="Size against quota"
            aria-valuemin={0}
            aria-valuemax={db.quotaBytes}
            aria-valuenow={Math.min(db.sizeBytes, db.quotaBytes)}
            aria-valuetext={`${sizeText(db.sizeBytes)} of ${sizeText(db.quotaBytes)}`}
            className="h-1.5 overflow-hidden rounded-full bg-muted"
          >
            <div
              className={cn("h-full rounded-full", db.readOnly ? "bg-destructive" : share > 0.8 ? "bg-warning" : "bg-primary")}
              style={{ width: `${Math.max(share * 100, 1)}%` }}
            />
          </div>
          <p className="flex flex-wrap gap-x-3 text-xs text-muted-foreground">
            <span data-testid="database-size">
              {db.sizeAt > 0
                ? `${sizeText(db.sizeBytes)} of ${sizeText(db.quotaBytes)} · measured ${timeAgo(db.sizeAt)}`
                : `Size not measured yet, of ${sizeText(db.quotaBytes)}`}
            </span>
            <span>
              {db.limits.connections} connections · statements stop after {durationText(db.limits.statementTimeoutMs)}
            </span>
          </p>
        </div>
      )}
      {db.readOnly && (
        <div role="alert" className="flex flex-wrap items-center gap-2 rounded-md border border-destructive-text/40 bg-destructive/10 p-2">
          <TriangleAlert className="size-4 shrink-0 text-destructive-text" aria-hidden />
          <p className="min-w-0 flex-1">
            Over the {sizeText(db.quotaBytes)} quota: the database is read-only until it shrinks. To make room, start the
            console's statements with <code className="font-mono">SET TRANSACTION READ WRITE;</code>, delete rows or drop
            tables you don't need, then Refresh.
          </p>
          <Button size="sm" onClick={() => refresh.mutate()} disabled={refresh.isPending}>
            {refresh.isPending ? <Spinner className="text-current" /> : <RefreshCw />} Refresh
          </Button>
        </div>
      )}
    </section>
  );
}
