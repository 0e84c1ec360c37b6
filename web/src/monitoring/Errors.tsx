import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Bug } from "lucide-react";
import { useState } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Loading } from "@/components/ui/spinner";
import { Segmented } from "@/deploy/Segmented";
import { timeAgo } from "@/lib/format";
import { monitoringApi, monitoringKeys, type ErrorStatus, type Range, type Scope } from "./api";
import { ErrorDetail } from "./ErrorDetail";
import { StatusActions, StatusBadge } from "./ErrorStatus";
import { countText, rangeWords } from "./format";
import { NoData } from "./NoData";
import { Sparkline } from "./Sparkline";

const statuses: { value: ErrorStatus | "all"; label: string }[] = [
  { value: "open", label: "Open" },
  { value: "resolved", label: "Resolved" },
  { value: "ignored", label: "Ignored" },
  { value: "all", label: "All" },
];

interface ErrorsProps {
  scope: Scope;
  range: Range;
  /** May resolve, ignore and reopen groups. */
  canEdit: boolean;
  onOpenSettings?: () => void;
}

/** Errors grouped by fingerprint, newest first; one opens into its occurrences. */
export function Errors({ scope, range, canEdit, onOpenSettings }: ErrorsProps) {
  const [status, setStatus] = useState<ErrorStatus | "all">("open");
  const [opened, setOpened] = useState<string | null>(null);
  const state = useQuery({
    queryKey: monitoringKeys.errorList(scope, range, status),
    queryFn: () => monitoringApi.errors(scope, range, status),
    refetchInterval: 60_000,
    placeholderData: keepPreviousData,
  });
  if (opened) {
    return <ErrorDetail scope={scope} fingerprint={opened} canEdit={canEdit} onBack={() => setOpened(null)} />;
  }
  return (
    <section aria-label="Errors" className="grid gap-2">
      <div>
        <Segmented label="Error status" value={status} options={statuses} onChange={setStatus} />
      </div>
      {state.isPending ? (
        <Loading label="Loading errors" />
      ) : state.isError ? (
        <ErrorState error={state.error} onRetry={() => void state.refetch()} />
      ) : state.data.length === 0 ? (
        status === "open" ? (
          <NoData scope={scope} icon={Bug} title={`No open errors in ${rangeWords(range)}`} onOpenSettings={onOpenSettings} />
        ) : (
          <p className="text-muted-foreground">No {status === "all" ? "" : `${status} `}errors in {rangeWords(range)}.</p>
        )
      ) : (
        <ul className="grid divide-y divide-border rounded-md border border-border" data-testid="error-groups">
          {state.data.map((g) => (
            <li key={g.fingerprint} className="flex items-center gap-3 p-2">
              <button
                type="button"
                onClick={() => setOpened(g.fingerprint)}
                className="grid min-w-0 flex-1 gap-0.5 rounded text-left hover:text-link focus-visible:outline-2 focus-visible:outline-ring"
              >
                <span className="truncate font-mono text-xs">
                  {g.name && <span className="font-semibold">{g.name}: </span>}
                  {g.message}
                </span>
                <span className="text-[11px] text-muted-foreground">
                  {countText(g.count)} {g.count === 1 ? "time" : "times"} · {countText(g.sessions)}{" "}
                  {g.sessions === 1 ? "session" : "sessions"} · last {timeAgo(g.lastSeen)} · first {timeAgo(g.firstSeen)}
                </span>
              </button>
              <Sparkline values={g.spark} label={`${countText(g.count)} times over ${rangeWords(range)}`} />
              <StatusBadge status={g.status} />
              {canEdit && <StatusActions scope={scope} group={g} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
