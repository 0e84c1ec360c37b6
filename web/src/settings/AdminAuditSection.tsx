import { useMutation, useQuery } from "@tanstack/react-query";
import { Download, ShieldCheck } from "lucide-react";
import { useState } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Button, buttonVariants } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Loading } from "@/components/ui/spinner";
import { api, errorMessage } from "@/lib/api";
import { actions, AuditRow } from "./SecurityLogSection";

const families = ["login", "account", "password", "session", "token", "ssh_key", "passkey", "identity", "project", "member", "invite", "secret", "admin"];

/** For platform administrators: the whole audit log, filtered, exported and verified. */
export function AdminAuditSection() {
  const [action, setAction] = useState("");
  const [target, setTarget] = useState("");
  const query = new URLSearchParams({ ...(action && { action }), ...(target.trim() && { target: target.trim() }) }).toString();
  const log = useQuery({ queryKey: ["admin-audit", query], queryFn: () => api.searchAudit(query) });
  const verify = useMutation({ mutationFn: api.verifyAudit });
  return (
    <section aria-labelledby="admin-audit-heading" className="rounded-lg border border-border bg-panel p-5">
      <h2 id="admin-audit-heading" className="text-base font-semibold">
        Audit log (all accounts)
      </h2>
      <p className="mb-4 text-[13px] text-muted-foreground">You administer this server: every account's security events.</p>
      <div className="mb-3 flex flex-wrap items-end gap-3">
        <div className="grid gap-1.5">
          <Label htmlFor="audit-action">Action</Label>
          <Select id="audit-action" value={action} onChange={(e) => setAction(e.target.value)}>
            <option value="">Everything</option>
            {families.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
            {Object.keys(actions).map((a) => (
              <option key={a} value={a}>
                {actions[a]}
              </option>
            ))}
          </Select>
        </div>
        <div className="w-64">
          <Field label="Target" placeholder="project:ID or user:ID" value={target} onChange={(e) => setTarget(e.target.value)} />
        </div>
        <a className={buttonVariants({ variant: "outline", size: "sm" })} href={`/api/admin/audit?${query}&format=csv`}>
          <Download /> CSV
        </a>
        <a className={buttonVariants({ variant: "outline", size: "sm" })} href={`/api/admin/audit?${query}&format=jsonl`}>
          <Download /> JSON lines
        </a>
        <Button variant="secondary" size="sm" onClick={() => verify.mutate()} disabled={verify.isPending}>
          <ShieldCheck /> Verify chain
        </Button>
      </div>
      {verify.data && (
        <p role="status" className={verify.data.intact ? "mb-3 text-[13px]" : "mb-3 text-[13px] text-destructive-text"}>
          {verify.data.intact
            ? `The chain holds: ${verify.data.entries} entries, none changed or removed.`
            : `Broken at entry ${verify.data.brokenAt}: ${verify.data.reason}.`}
        </p>
      )}
      {verify.isError && <p role="alert" className="mb-3 text-[13px] text-destructive-text">{errorMessage(verify.error)}</p>}
      {log.isPending && <Loading label="Loading the audit log" />}
      {log.isError && <ErrorState error={log.error} onRetry={() => void log.refetch()} />}
      {log.data && (
        <ol aria-label="Audit log" className="grid max-h-96 gap-1 overflow-auto text-[13px]">
          {log.data.map((e) => (
            <AuditRow key={e.seq} entry={e} />
          ))}
        </ol>
      )}
    </section>
  );
}
