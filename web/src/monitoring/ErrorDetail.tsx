import { useQuery } from "@tanstack/react-query";
import { ArrowLeft, Play } from "lucide-react";
import { useState } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Loading, Spinner } from "@/components/ui/spinner";
import { timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { monitoringApi, monitoringKeys, type ErrorOccurrence, type Scope } from "./api";
import { StatusActions, StatusBadge } from "./ErrorStatus";
import { countText, seenText } from "./format";
import { PlayerDialog, type PlayerTarget } from "./PlayerDialog";

interface ErrorDetailProps {
  scope: Scope;
  fingerprint: string;
  canEdit: boolean;
  onBack: () => void;
}

/** One error group: what it is, its latest occurrences with their stacks, and the replay of a session it happened in. */
export function ErrorDetail({ scope, fingerprint, canEdit, onBack }: ErrorDetailProps) {
  const state = useQuery({
    queryKey: monitoringKeys.error(scope, fingerprint),
    queryFn: () => monitoringApi.error(scope, fingerprint),
  });
  // The occurrence whose stack shows: the newest until another is picked.
  const [picked, setPicked] = useState(0);
  const back = (
    <Button size="sm" variant="ghost" className="justify-self-start" onClick={onBack}>
      <ArrowLeft /> All errors
    </Button>
  );
  if (state.isPending) return <Loading label="Loading the error" />;
  if (state.isError) {
    return (
      <div className="grid gap-2">
        {back}
        <ErrorState error={state.error} onRetry={() => void state.refetch()} />
      </div>
    );
  }
  const { group: g, occurrences } = state.data;
  const shown = occurrences[Math.min(picked, occurrences.length - 1)];
  return (
    <article aria-labelledby="error-heading" className="grid gap-3" data-testid="error-detail">
      {back}
      <header className="grid gap-1">
        <div className="flex flex-wrap items-center gap-2">
          <h3 id="error-heading" className="min-w-0 font-mono text-sm break-words">
            {g.name && <span className="font-semibold">{g.name}: </span>}
            {g.message}
          </h3>
          <StatusBadge status={g.status} />
          {canEdit && <StatusActions scope={scope} group={g} />}
        </div>
        <p className="text-xs text-muted-foreground">
          {countText(g.count)} {g.count === 1 ? "time" : "times"} in {countText(g.sessions)}{" "}
          {g.sessions === 1 ? "session" : "sessions"} · first seen {seenText(g.firstSeen)} · last seen {seenText(g.lastSeen)}
          {g.url && <> · on <span className="font-mono">{g.url}</span></>}
        </p>
      </header>
      {shown ? (
        <div className="grid gap-3 @2xl/monitoring:grid-cols-[16rem_1fr]">
          <nav aria-label="Occurrences" className="grid content-start gap-1">
            <h4 className="text-xs font-semibold text-muted-foreground">Latest occurrences</h4>
            <ul className="grid max-h-96 overflow-auto rounded-md border border-border">
              {occurrences.map((o, i) => (
                <li key={`${o.t}-${o.session}-${i}`}>
                  <button
                    type="button"
                    aria-current={o === shown ? "true" : undefined}
                    onClick={() => setPicked(i)}
                    className={cn(
                      "grid w-full gap-0.5 px-2 py-1 text-left text-xs hover:bg-muted focus-visible:outline-2 focus-visible:outline-offset-[-2px] focus-visible:outline-ring",
                      o === shown && "bg-accent text-accent-foreground",
                    )}
                  >
                    <span>{timeAgo(o.t)}</span>
                    <span className="truncate text-[11px] text-muted-foreground">{o.browser || o.url}</span>
                  </button>
                </li>
              ))}
            </ul>
          </nav>
          <Occurrence key={`${shown.t}-${shown.session}`} scope={scope} occurrence={shown} />
        </div>
      ) : (
        <p className="text-muted-foreground">Its occurrences are past the retention period.</p>
      )}
    </article>
  );
}

function Occurrence({ scope, occurrence: o }: { scope: Scope; occurrence: ErrorOccurrence }) {
  return (
    <section aria-label="Occurrence" className="grid min-w-0 content-start gap-2">
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-xs">
        <dt className="text-muted-foreground">When</dt>
        <dd>{seenText(o.t)}</dd>
        <dt className="text-muted-foreground">Page</dt>
        <dd className="font-mono break-all">{o.url}</dd>
        {o.browser && (
          <>
            <dt className="text-muted-foreground">Browser</dt>
            <dd>{o.browser}</dd>
          </>
        )}
        <dt className="text-muted-foreground">Session</dt>
        <dd className="font-mono break-all">{o.session}</dd>
      </dl>
      {scope !== "platform" && <ReplayButton projectId={scope.project} occurrence={o} />}
      <h4 className="text-xs font-semibold text-muted-foreground">Stack trace</h4>
      <pre className="max-h-96 overflow-auto rounded-md border border-border bg-muted p-2 font-mono text-xs whitespace-pre">
        {o.stack || `${o.message}\n(no stack trace was reported)`}
      </pre>
    </section>
  );
}

/** "Play replay" when the occurrence's session was recorded; it starts near the error. */
function ReplayButton({ projectId, occurrence: o }: { projectId: string; occurrence: ErrorOccurrence }) {
  const [target, setTarget] = useState<PlayerTarget | null>(null);
  const replay = useQuery({
    queryKey: monitoringKeys.replay(projectId, o.session),
    queryFn: () => monitoringApi.replay(projectId, o.session),
  });
  if (replay.isPending) return <Spinner label="Looking for a replay of this session" />;
  if (replay.isError) return <p className="text-xs text-muted-foreground">Couldn't look for a replay of this session.</p>;
  if (!replay.data) return <p className="text-xs text-muted-foreground">This session was not recorded.</p>;
  return (
    <>
      <Button size="sm" className="justify-self-start" onClick={() => setTarget({ sessionId: o.session, atMs: o.t })}>
        <Play /> Play replay
      </Button>
      <PlayerDialog projectId={projectId} target={target} onClose={() => setTarget(null)} />
    </>
  );
}
