import { useQuery } from "@tanstack/react-query";
import { Download, ScrollText } from "lucide-react";
import { ErrorState } from "@/components/ErrorState";
import { buttonVariants } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading } from "@/components/ui/spinner";
import { api, type AuditEntry } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";

// What each action is, in words.
export const actions: Record<string, string> = {
  login: "Logged in",
  "login.password": "Password accepted",
  "login.failure": "Failed login",
  "account.create": "Account created",
  "account.update": "Account changed",
  "password.change": "Password changed",
  "session.end": "Session logged out",
  "session.end_others": "Other sessions logged out",
  "token.create": "API token created",
  "token.revoke": "API token revoked",
  "device.approve": "Device login approved",
  "device.deny": "Device login denied",
  "ssh_key.create": "SSH key created",
  "ssh_key.delete": "SSH key deleted",
  "passkey.add": "Security key added",
  "passkey.remove": "Security key removed",
  "second_factor.set": "Security key requirement changed",
  "identity.link": "Provider linked",
  "identity.unlink": "Provider unlinked",
  "project.visibility": "Project visibility changed",
  "project.delete": "Project deleted",
  "project.resources": "Project resources changed",
  "member.add": "Collaborator added",
  "member.role": "Collaborator's role changed",
  "member.remove": "Collaborator removed",
  "invite.create": "Invite link created",
  "invite.revoke": "Invite link revoked",
  "invite.accept": "Invite accepted",
  "secret.set": "Secret set",
  "secret.reveal": "Secret revealed",
  "secret.delete": "Secret deleted",
  "admin.disable_user": "Account disabled by an administrator",
  "admin.enable_user": "Account enabled by an administrator",
  "admin.grant": "Made a platform administrator",
  "admin.revoke": "No longer a platform administrator",
};

/** The person's security log: what they did and what was done to their account. */
export function SecurityLogSection() {
  const log = useQuery({ queryKey: ["audit"], queryFn: api.auditLog });
  return (
    <section aria-labelledby="audit-heading" className="rounded-lg border border-border bg-panel p-5">
      <div className="mb-1 flex items-center justify-between gap-2">
        <h2 id="audit-heading" className="text-base font-semibold">
          Security log
        </h2>
        <a className={buttonVariants({ variant: "outline", size: "sm" })} href="/api/user/audit?format=jsonl" download="ecode-security-log.jsonl">
          <Download /> Export
        </a>
      </div>
      <p className="mb-4 text-[13px] text-muted-foreground">
        Logins, keys, tokens, sharing and secrets, newest first. Entries are chained so that none can be changed or
        removed unnoticed.
      </p>
      {log.isPending && <Loading label="Loading the security log" />}
      {log.isError && <ErrorState error={log.error} onRetry={() => void log.refetch()} />}
      {log.data?.length === 0 && <EmptyState icon={ScrollText} title="Nothing yet" />}
      {log.data && log.data.length > 0 && (
        <ol aria-label="Security log" className="grid max-h-80 gap-1 overflow-auto text-[13px]">
          {log.data.map((e) => (
            <AuditRow key={e.seq} entry={e} />
          ))}
        </ol>
      )}
    </section>
  );
}

export function AuditRow({ entry }: { entry: AuditEntry }) {
  const failed = entry.action === "login.failure";
  return (
    <li className="flex items-baseline gap-3 border-b border-border py-1.5 last:border-0">
      <span className={failed ? "font-medium text-destructive-text" : "font-medium"}>{actions[entry.action] ?? entry.action}</span>
      <span className="min-w-0 flex-1 truncate text-xs text-muted-foreground">
        {entry.actorName && (
          <>
            by <span title={entry.actorId ? `user:${entry.actorId}` : undefined}>{entry.actorName}</span> ·{" "}
          </>
        )}
        {entry.target !== `user:${entry.actorId}` && (
          <>
            <span title={entry.target}>{entry.targetName}</span> ·{" "}
          </>
        )}
        <span title={entry.userAgent}>{entry.ip}</span>
      </span>
      <time className="shrink-0 text-xs text-muted-foreground" dateTime={new Date(entry.at).toISOString()} title={formatDate(entry.at)}>
        {timeAgo(entry.at)}
      </time>
    </li>
  );
}
