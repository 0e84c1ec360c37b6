import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Bug, Play, Video } from "lucide-react";
import { useId, useState } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Loading } from "@/components/ui/spinner";
import { formatBytes, formatDuration } from "@/lib/format";
import { monitoringApi, monitoringKeys, type Range } from "./api";
import { rangeWords, seenText } from "./format";
import { NoData } from "./NoData";
import { PlayerDialog, type PlayerTarget } from "./PlayerDialog";

/** The deployment's recorded sessions, newest first, each opening the player. */
export function Replays({ projectId, range, onOpenSettings }: { projectId: string; range: Range; onOpenSettings: () => void }) {
  const [errorsOnly, setErrorsOnly] = useState(false);
  const [target, setTarget] = useState<PlayerTarget | null>(null);
  const filterId = useId();
  const state = useQuery({
    queryKey: monitoringKeys.replays(projectId, range, errorsOnly),
    queryFn: () => monitoringApi.replays(projectId, range, errorsOnly),
    refetchInterval: 60_000,
    placeholderData: keepPreviousData,
  });
  return (
    <section aria-label="Replays" className="grid gap-2">
      <label htmlFor={filterId} className="flex items-center gap-2 justify-self-start">
        <input
          id={filterId}
          type="checkbox"
          checked={errorsOnly}
          onChange={(e) => setErrorsOnly(e.target.checked)}
          className="size-4 accent-primary"
        />
        Only sessions with an error
      </label>
      {state.isPending ? (
        <Loading label="Loading replays" />
      ) : state.isError ? (
        <ErrorState error={state.error} onRetry={() => void state.refetch()} />
      ) : state.data.length === 0 ? (
        errorsOnly ? (
          <p className="text-muted-foreground">No recorded session had an error in {rangeWords(range)}.</p>
        ) : (
          <NoData
            scope={{ project: projectId }}
            icon={Video}
            title={`No sessions recorded in ${rangeWords(range)}`}
            onOpenSettings={onOpenSettings}
          />
        )
      ) : (
        <ul className="grid divide-y divide-border rounded-md border border-border" data-testid="replays">
          {state.data.map((r) => (
            <li key={r.id} className="flex items-center gap-3 p-2">
              <div className="grid min-w-0 flex-1 gap-0.5">
                <span className="truncate font-mono text-xs">{r.url || r.id}</span>
                <span className="text-[11px] text-muted-foreground">
                  {seenText(r.startedAt)} · {formatDuration(r.durationMs)} · {formatBytes(r.bytes)} in {r.chunks}{" "}
                  {r.chunks === 1 ? "part" : "parts"}
                </span>
              </div>
              {r.hasError && (
                <Badge className="border-destructive-text/50 text-destructive-text">
                  <Bug aria-hidden /> Error
                </Badge>
              )}
              <Button size="sm" onClick={() => setTarget({ sessionId: r.id })} aria-label={`Play the session of ${seenText(r.startedAt)}`}>
                <Play /> Play
              </Button>
            </li>
          ))}
        </ul>
      )}
      <PlayerDialog projectId={projectId} target={target} onClose={() => setTarget(null)} />
    </section>
  );
}
