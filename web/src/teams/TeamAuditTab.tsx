import { useQuery } from "@tanstack/react-query";
import { Download, Filter, ScrollText, X } from "lucide-react";
import { useState, type FormEvent } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Button, buttonVariants } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Loading } from "@/components/ui/spinner";
import { api, type AuditEntry, type Team, type TeamAuditFilter } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";

// Offered in the action box; any whole-word prefix works ("team.member" matches team.member.add, team.member.role...).
const suggestedActions = [
  "team",
  "team.member",
  "team.member.add",
  "team.member.role",
  "team.member.remove",
  "team.invite",
  "team.allowlist",
  "secret",
  "secret.set",
  "secret.reveal",
  "secret.delete",
  "project",
];

// What the common actions mean, in words; others show their code alone.
const actionLabels: Record<string, string> = {
  "team.create": "Team created",
  "team.update": "Team settings changed",
  "team.member.add": "Member added",
  "team.member.role": "Member's role changed",
  "team.member.remove": "Member removed",
  "team.invite.create": "Invite link created",
  "team.invite.revoke": "Invite link revoked",
  "team.invite.accept": "Joined by invite link",
  "team.allowlist": "IP allowlist changed",
  "team.allowlist.clear": "IP allowlist cleared",
  "secret.set": "Secret set",
  "secret.reveal": "Secret revealed",
  "secret.delete": "Secret deleted",
  "project.delete": "Project deleted",
  "project.visibility": "Project visibility changed",
  "project.resources": "Project resources changed",
};

interface Draft {
  actor: string;
  action: string;
  from: string;
  to: string;
}

const emptyDraft: Draft = { actor: "", action: "", from: "", to: "" };

/** Dates from the form (YYYY-MM-DD, the person's own time zone) as the API's filter: whole days, both ends included. */
function toFilter(d: Draft): TeamAuditFilter {
  return {
    actor: d.actor.trim().replace(/^@/, "") || undefined,
    action: d.action.trim() || undefined,
    since: d.from ? new Date(`${d.from}T00:00:00`).getTime() : undefined,
    until: d.to ? new Date(`${d.to}T23:59:59.999`).getTime() : undefined,
  };
}

/** Who did what in the team, filtered, and exported with the same filters. */
export function TeamAuditTab({ team }: { team: Team }) {
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  const [applied, setApplied] = useState<Draft>(emptyDraft);
  const filter = toFilter(applied);
  const log = useQuery({
    queryKey: ["teams", team.name, "audit", filter],
    queryFn: () => api.teamAudit(team.name, filter),
  });
  const rangeBackwards = draft.from !== "" && draft.to !== "" && draft.from > draft.to;
  const filtered = Object.values(filter).some((v) => v !== undefined);
  const set = (field: keyof Draft) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [field]: e.target.value }));

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!rangeBackwards) setApplied(draft);
  }

  return (
    <section aria-labelledby="team-audit-heading" className="grid gap-4">
      <div>
        <h2 id="team-audit-heading" className="text-base font-semibold">
          Audit log
        </h2>
        <p className="text-[13px] text-muted-foreground">
          Everything done to the team, its members, secrets and settings, newest first. Entries are chained so that none
          can be changed or removed unnoticed.
        </p>
      </div>
      <form onSubmit={submit} noValidate aria-label="Filter the audit log" className="flex flex-wrap items-end gap-3 rounded-lg border border-border bg-panel p-4">
        <Field label="Actor" className="h-8 w-40 text-[13px]" placeholder="username" autoComplete="off" spellCheck={false} value={draft.actor} onChange={set("actor")} />
        <Field
          label="Action"
          list="audit-action-suggestions"
          className="h-8 w-40 font-mono text-[13px]"
          placeholder="team.member, secret…"
          autoComplete="off"
          spellCheck={false}
          value={draft.action}
          onChange={set("action")}
        />
        {/* Hidden, so it takes no place among the fields. */}
        <datalist id="audit-action-suggestions">
          {suggestedActions.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        <Field label="From" type="date" className="h-8 w-auto text-[13px]" value={draft.from} onChange={set("from")} />
        <Field
          label="To"
          type="date"
          className="h-8 w-auto text-[13px]"
          value={draft.to}
          aria-invalid={rangeBackwards || undefined}
          aria-describedby={rangeBackwards ? "audit-range-error" : undefined}
          onChange={set("to")}
        />
        <Button type="submit" variant="primary" disabled={rangeBackwards}>
          <Filter /> Apply filters
        </Button>
        {(filtered || draft !== applied) && (
          <Button
            variant="ghost"
            onClick={() => {
              setDraft(emptyDraft);
              setApplied(emptyDraft);
            }}
          >
            <X /> Clear
          </Button>
        )}
        {rangeBackwards && (
          <p id="audit-range-error" role="alert" className="basis-full text-xs text-destructive-text">
            The end date is before the start date.
          </p>
        )}
      </form>
      <div className="flex flex-wrap items-center gap-2">
        <p role="status" className="mr-auto text-[13px] text-muted-foreground">
          {log.data && `${log.data.length} ${log.data.length === 1 ? "entry" : "entries"}${filtered ? " match the filters" : ""}`}
        </p>
        <a className={buttonVariants({ variant: "outline", size: "sm" })} href={api.teamAuditExportUrl(team.name, filter, "csv")} download={`${team.name}-audit.csv`}>
          <Download /> Export CSV
        </a>
        <a className={buttonVariants({ variant: "outline", size: "sm" })} href={api.teamAuditExportUrl(team.name, filter, "jsonl")} download={`${team.name}-audit.jsonl`}>
          <Download /> Export JSON lines
        </a>
      </div>
      {log.isPending && <Loading label="Loading the audit log" />}
      {log.isError && <ErrorState error={log.error} onRetry={() => void log.refetch()} />}
      {log.data?.length === 0 && (
        <EmptyState icon={ScrollText} title={filtered ? "Nothing matches" : "Nothing yet"}>
          {filtered ? "Try a shorter action prefix or a wider date range." : "What the team's people do will be listed here."}
        </EmptyState>
      )}
      {log.data && log.data.length > 0 && <AuditTable entries={log.data} />}
    </section>
  );
}

function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <div className="overflow-x-auto rounded-lg border border-border bg-panel">
      <table className="w-full text-left text-[13px]">
        <caption className="sr-only">Audit log entries</caption>
        <thead className="text-xs text-muted-foreground">
          <tr className="border-b border-border">
            <th className="px-3 py-2 font-medium">When</th>
            <th className="px-3 py-2 font-medium">Actor</th>
            <th className="px-3 py-2 font-medium">Action</th>
            <th className="px-3 py-2 font-medium">Target</th>
            <th className="hidden px-3 py-2 font-medium md:table-cell">Details</th>
            <th className="hidden px-3 py-2 font-medium sm:table-cell">Address</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq} data-testid="audit-entry" className="border-b border-border align-top last:border-0">
              <td className="whitespace-nowrap px-3 py-2">
                <time dateTime={new Date(e.at).toISOString()} title={formatDate(e.at)}>
                  {timeAgo(e.at)}
                </time>
              </td>
              <td className="px-3 py-2" title={e.actorId ? `user:${e.actorId}` : undefined}>
                {e.actorName || "—"}
              </td>
              <td className="px-3 py-2">
                <code className="font-mono text-xs">{e.action}</code>
                {actionLabels[e.action] && <div className="text-xs text-muted-foreground">{actionLabels[e.action]}</div>}
              </td>
              <td className="max-w-48 truncate px-3 py-2 text-xs" title={e.target}>
                {e.targetName}
              </td>
              <td className="hidden max-w-64 truncate px-3 py-2 text-xs text-muted-foreground md:table-cell" title={e.details}>
                {e.details}
              </td>
              <td className="hidden px-3 py-2 font-mono text-xs sm:table-cell" title={e.userAgent}>
                {e.ip}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
