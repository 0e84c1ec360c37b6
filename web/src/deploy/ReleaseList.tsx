import { Radio, RotateCcw, ScrollText } from "lucide-react";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import type { Release } from "@/lib/api";
import { formatDate, formatDuration, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { usePromote } from "./queries";
import { ReleaseStatus } from "./ReleaseStatus";

interface ReleaseListProps {
  projectId: string;
  releases: Release[];
  /** The release whose log the pane shows. */
  shown: string | null;
  onShowLog: (id: string) => void;
  /** Whether this person may change which release is live. */
  canPromote: boolean;
}

/** The kept releases, newest first: who made each from which commit, how it went, which is live. */
export function ReleaseList({ projectId, releases, shown, onShowLog, canPromote }: ReleaseListProps) {
  const promote = usePromote(projectId);
  const [promoting, setPromoting] = useState<Release | null>(null);
  const live = releases.find((r) => r.live);
  const back = promoting && live ? promoting.number < live.number : true;
  return (
    <section aria-labelledby="releases-heading" className="grid gap-2">
      <h2 id="releases-heading" className="text-sm font-semibold">
        Releases
      </h2>
      <ol aria-label="Releases" className="grid gap-2">
        {releases.map((r) => (
          <li
            key={r.id}
            aria-label={`Release #${r.number}`}
            className={cn("grid gap-1 rounded-md border px-3 py-2", r.live ? "border-primary/60" : "border-border", shown === r.id && "bg-muted/50")}
          >
            <div className="flex flex-wrap items-center gap-2">
              <span className="font-medium">#{r.number}</span>
              <ReleaseStatus release={r} />
              {r.live && (
                <Badge className="border-primary/60 text-foreground">
                  <Radio aria-hidden /> Live
                </Badge>
              )}
              <code className="font-mono text-xs text-muted-foreground" title={r.commit}>
                {r.commit.slice(0, 7)}
              </code>
              <span className="ml-auto flex gap-1">
                <Button size="sm" variant="ghost" aria-pressed={shown === r.id} onClick={() => onShowLog(r.id)}>
                  <ScrollText /> Log
                </Button>
                {canPromote && r.status === "ready" && !r.live && (
                  <Button size="sm" variant="secondary" onClick={() => setPromoting(r)}>
                    <RotateCcw /> {live && r.number > live.number ? "Make this live" : "Roll back to this"}
                  </Button>
                )}
              </span>
            </div>
            <p className="text-xs text-muted-foreground">
              {r.createdBy.username} ·{" "}
              <time dateTime={new Date(r.createdAt).toISOString()} title={formatDate(r.createdAt)}>
                {timeAgo(r.createdAt)}
              </time>
              {r.buildMs !== null && ` · built in ${formatDuration(r.buildMs)}`}
            </p>
            {r.status === "failed" && r.error && <p className="text-xs break-words text-destructive-text">{r.error}</p>}
          </li>
        ))}
      </ol>
      <ConfirmDialog
        open={promoting !== null}
        onOpenChange={(open) => !open && setPromoting(null)}
        title={back ? `Roll back to release #${promoting?.number ?? ""}?` : `Make release #${promoting?.number ?? ""} live?`}
        description={
          live
            ? `Visitors get release #${promoting?.number ?? ""} from now on, in place of #${live.number}, which stays kept: you can make it live again.`
            : `Visitors get release #${promoting?.number ?? ""} from now on.`
        }
        confirmLabel={back ? "Roll back" : "Make live"}
        onConfirm={async () => {
          if (promoting) await promote(promoting);
        }}
      />
    </section>
  );
}
