import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { BellOff, CircleCheck, KeyRound, Pencil, Plus, Send, Siren, Trash2 } from "lucide-react";
import { useState, type FormEvent, type ReactNode } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Dialog, DialogContent, DialogFooter } from "@/components/ui/dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuTrigger } from "@/components/ui/menu";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { Section } from "@/monitoring/Section";
import { alertKeys, alertsApi, type Alert, type AlertKind, type AlertMetric, type AlertRule, type AlertRuleInput } from "./api";

const metrics: Record<AlertMetric, string> = {
  error_rate: "Error rate",
  p95_ms: "p95 latency (ms)",
  requests: "Requests",
  browser_errors: "Browser errors",
  "vital:LCP": "LCP p75 (ms)",
  "vital:INP": "INP p75 (ms)",
  "vital:CLS": "CLS p75",
  "vital:FCP": "FCP p75 (ms)",
  "vital:TTFB": "TTFB p75 (ms)",
};

const kinds: Record<AlertKind, string> = {
  threshold: "Threshold",
  burn_rate: "SLO burn rate",
  anomaly: "Anomaly",
};

const silences = [
  { minutes: 60, label: "1 hour" },
  { minutes: 240, label: "4 hours" },
  { minutes: 1440, label: "24 hours" },
];

const blank: AlertRuleInput = {
  name: "",
  kind: "threshold",
  metric: "error_rate",
  op: ">",
  threshold: 0.05,
  windowMinutes: 5,
  slo: 0.999,
  channels: { inApp: true, webhookUrl: "", emails: [] },
  enabled: true,
};

/** A rule's settings alone: the server refuses fields it doesn't take, such as the id. */
function settingsOf({ name, kind, metric, op, threshold, windowMinutes, slo, channels, enabled }: AlertRule): AlertRuleInput {
  return { name, kind, metric, op, threshold, windowMinutes, slo, channels, enabled };
}

function summary(r: AlertRuleInput): string {
  switch (r.kind) {
    case "threshold":
      return `${metrics[r.metric]} ${r.op} ${r.threshold} over ${r.windowMinutes} min`;
    case "burn_rate":
      return `Error budget of a ${+(r.slo * 100).toFixed(3)}% SLO burning too fast`;
    case "anomaly":
      return `${metrics[r.metric]} unlike the same time last week`;
  }
}

/**
 * A project's alerts: its rules (threshold, SLO burn rate, anomaly) with where each is told, a test
 * send per rule, and the history of alerts, firing ones first to silence or resolve.
 */
export function AlertsPanel({ projectId }: { projectId: string }) {
  const [editing, setEditing] = useState<AlertRule | "new" | null>(null);
  return (
    <div className="grid gap-6" data-testid="alerts-panel">
      <Rules projectId={projectId} onEdit={setEditing} />
      <History projectId={projectId} />
      <WebhookSecret projectId={projectId} />
      {editing && <RuleDialog projectId={projectId} rule={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
    </div>
  );
}

function Rules({ projectId, onEdit }: { projectId: string; onEdit: (r: AlertRule | "new") => void }) {
  const qc = useQueryClient();
  const rules = useQuery({ queryKey: alertKeys.rules(projectId), queryFn: () => alertsApi.rules(projectId) });
  const [removing, setRemoving] = useState<AlertRule | null>(null);
  const test = useMutation({
    mutationFn: (r: AlertRule) => alertsApi.testRule(projectId, r.id),
    onSuccess: (results) => {
      const failed = results.filter((r) => !r.ok);
      if (failed.length === 0) toast.success("Test notification sent", { description: results.map((r) => r.channel).join(", ") });
      else toast.error("Some channels failed", { description: failed.map((r) => `${r.channel}: ${r.error ?? "failed"}`).join("\n") });
    },
    onError: (err) => toast.error("Couldn't send a test", { description: errorMessage(err) }),
  });
  const toggle = useMutation({
    mutationFn: (r: AlertRule) => alertsApi.updateRule(projectId, r.id, { enabled: !r.enabled }),
    onError: (err) => toast.error("Couldn't change the rule", { description: errorMessage(err) }),
    onSettled: () => qc.invalidateQueries({ queryKey: alertKeys.all(projectId) }),
  });
  return (
    <Section
      title="Alert rules"
      action={
        <Button size="sm" onClick={() => onEdit("new")}>
          <Plus /> New rule
        </Button>
      }
    >
      {rules.isPending && <Spinner label="Loading alert rules" />}
      {rules.isError && <ErrorState error={rules.error} onRetry={() => void rules.refetch()} />}
      {rules.data?.length === 0 && (
        <EmptyState icon={Siren} title="No alert rules">
          Get told when errors, latency or traffic go wrong on the deployment.
        </EmptyState>
      )}
      {rules.data && rules.data.length > 0 && (
        <ul aria-label="Alert rules" className="grid gap-1">
          {rules.data.map((r) => (
            <li key={r.id} className="flex flex-wrap items-center gap-2 rounded-md border border-border px-3 py-2">
              <div className="grid min-w-0 flex-1 gap-0.5">
                <span className="font-medium">{r.name}</span>
                <span className="text-xs text-muted-foreground">
                  {kinds[r.kind]} · {summary(r)}
                </span>
              </div>
              {!r.enabled && <Badge>Off</Badge>}
              <Button size="sm" variant="ghost" disabled={toggle.isPending} onClick={() => toggle.mutate(r)}>
                {r.enabled ? "Turn off" : "Turn on"}
              </Button>
              <Button size="sm" variant="ghost" aria-label={`Test ${r.name}`} disabled={test.isPending} onClick={() => test.mutate(r)}>
                <Send /> Test
              </Button>
              <Button size="sm" variant="ghost" aria-label={`Edit ${r.name}`} onClick={() => onEdit(r)}>
                <Pencil />
              </Button>
              <Button size="sm" variant="ghost" aria-label={`Delete ${r.name}`} onClick={() => setRemoving(r)}>
                <Trash2 />
              </Button>
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => !open && setRemoving(null)}
        title={`Delete “${removing?.name ?? ""}”?`}
        description="Its alert history stays; an alert it has firing is resolved."
        confirmLabel="Delete rule"
        destructive
        onConfirm={async () => {
          if (removing) await alertsApi.deleteRule(projectId, removing.id);
          setRemoving(null);
          await qc.invalidateQueries({ queryKey: alertKeys.all(projectId) });
        }}
      />
    </Section>
  );
}

function RuleDialog({ projectId, rule, onClose }: { projectId: string; rule: AlertRule | null; onClose: () => void }) {
  const qc = useQueryClient();
  const [form, setForm] = useState(rule ? settingsOf(rule) : blank);
  const [emails, setEmails] = useState((rule?.channels.emails ?? []).join(", "));
  const set = (patch: Partial<AlertRuleInput>) => setForm((f) => ({ ...f, ...patch }));
  const setChannels = (patch: Partial<AlertRuleInput["channels"]>) => setForm((f) => ({ ...f, channels: { ...f.channels, ...patch } }));
  const save = useMutation({
    mutationFn: (input: AlertRuleInput) => (rule ? alertsApi.updateRule(projectId, rule.id, input) : alertsApi.createRule(projectId, input)),
    onSuccess: async () => {
      toast.success(rule ? "Rule saved" : "Rule created");
      await qc.invalidateQueries({ queryKey: alertKeys.all(projectId) });
      onClose();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    const list = emails
      .split(/[\s,;]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    save.mutate({ ...form, metric: form.kind === "burn_rate" ? "error_rate" : form.metric, channels: { ...form.channels, emails: list } });
  }
  return (
    <Dialog open onOpenChange={(open) => !open && onClose()}>
      <DialogContent title={rule ? "Edit alert rule" : "New alert rule"} className="max-w-lg">
        <form onSubmit={submit} noValidate className="grid gap-3" aria-label="Alert rule">
          <Field label="Name" value={form.name} required maxLength={100} onChange={(e) => set({ name: e.target.value })} />
          <div className="grid grid-cols-2 gap-3">
            <Labelled label="Kind">
              <Select value={form.kind} onChange={(e) => set({ kind: e.target.value as AlertKind })}>
                {Object.entries(kinds).map(([k, label]) => (
                  <option key={k} value={k}>
                    {label}
                  </option>
                ))}
              </Select>
            </Labelled>
            <Labelled label="Metric">
              <Select
                value={form.kind === "burn_rate" ? "error_rate" : form.metric}
                disabled={form.kind === "burn_rate"}
                onChange={(e) => set({ metric: e.target.value as AlertMetric })}
              >
                {Object.entries(metrics).map(([m, label]) => (
                  <option key={m} value={m}>
                    {label}
                  </option>
                ))}
              </Select>
            </Labelled>
          </div>
          {form.kind === "threshold" && (
            <div className="grid grid-cols-3 gap-3">
              <Labelled label="When">
                <Select value={form.op} onChange={(e) => set({ op: e.target.value as AlertRule["op"] })}>
                  <option value=">">above</option>
                  <option value="<">below</option>
                </Select>
              </Labelled>
              <Field
                label="Threshold"
                type="number"
                step="any"
                value={String(form.threshold)}
                hint={form.metric === "error_rate" ? "A share: 0.05 is 5%." : undefined}
                onChange={(e) => set({ threshold: Number(e.target.value) })}
              />
              <Field
                label="Over (minutes)"
                type="number"
                min={1}
                max={1440}
                value={String(form.windowMinutes)}
                onChange={(e) => set({ windowMinutes: Number(e.target.value) })}
              />
            </div>
          )}
          {form.kind === "burn_rate" && (
            <Field
              label="SLO (share of requests that succeed)"
              type="number"
              step="any"
              min={0}
              max={1}
              value={String(form.slo)}
              hint="Fires when the error budget burns 14.4× too fast over 1 h and 5 min, or 6× over 6 h and 30 min."
              onChange={(e) => set({ slo: Number(e.target.value) })}
            />
          )}
          {form.kind === "anomaly" && (
            <p className="text-xs text-muted-foreground">
              Fires when the metric is far from the same time last week, beyond its usual noise.
            </p>
          )}
          <fieldset className="grid gap-2 rounded-md border border-border p-3">
            <legend className="px-1 text-xs font-medium">Tell</legend>
            <label className="flex items-center gap-2">
              <input type="checkbox" checked={form.channels.inApp} onChange={(e) => setChannels({ inApp: e.target.checked })} />
              The project's editors, in the app
            </label>
            <Field
              label="Webhook URL"
              type="url"
              placeholder="https://hooks.example.com/alerts"
              value={form.channels.webhookUrl}
              onChange={(e) => setChannels({ webhookUrl: e.target.value })}
            />
            <Field label="Emails" placeholder="oncall@example.com, ..." value={emails} onChange={(e) => setEmails(e.target.value)} />
          </fieldset>
          {save.error && (
            <p role="alert" className="text-xs text-destructive-text">
              {errorMessage(save.error)}
            </p>
          )}
          <DialogFooter>
            <Button type="button" variant="ghost" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" disabled={save.isPending || !form.name.trim()}>
              {save.isPending && <Spinner className="text-current" />}
              {rule ? "Save rule" : "Create rule"}
            </Button>
          </DialogFooter>
        </form>
      </DialogContent>
    </Dialog>
  );
}

function Labelled({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Label className="grid gap-1.5">
      {label}
      {children}
    </Label>
  );
}

function History({ projectId }: { projectId: string }) {
  const qc = useQueryClient();
  const [status, setStatus] = useState<"firing" | "all">("all");
  const list = useQuery({
    queryKey: alertKeys.list(projectId, status),
    queryFn: () => alertsApi.alerts(projectId, status),
    refetchInterval: 30_000,
  });
  const refresh = () => qc.invalidateQueries({ queryKey: alertKeys.all(projectId) });
  const silence = useMutation({
    mutationFn: ({ a, minutes }: { a: Alert; minutes: number }) => alertsApi.silence(projectId, a.id, minutes),
    onSuccess: () => toast.success("Alert silenced"),
    onError: (err) => toast.error("Couldn't silence the alert", { description: errorMessage(err) }),
    onSettled: () => void refresh(),
  });
  const resolve = useMutation({
    mutationFn: (a: Alert) => alertsApi.resolve(projectId, a.id),
    onSuccess: () => toast.success("Alert resolved"),
    onError: (err) => toast.error("Couldn't resolve the alert", { description: errorMessage(err) }),
    onSettled: () => void refresh(),
  });
  return (
    <Section
      title="Alerts"
      action={
        <Select aria-label="Show" className="w-auto" value={status} onChange={(e) => setStatus(e.target.value as "firing" | "all")}>
          <option value="all">All</option>
          <option value="firing">Firing</option>
        </Select>
      }
    >
      {list.isPending && <Spinner label="Loading alerts" />}
      {list.isError && <ErrorState error={list.error} onRetry={() => void list.refetch()} />}
      {list.data?.length === 0 && <p className="text-muted-foreground">{status === "firing" ? "Nothing is firing." : "No alerts yet."}</p>}
      {list.data && list.data.length > 0 && (
        <ul aria-label="Alert history" className="grid gap-1">
          {list.data.map((a) => (
            <li key={a.id} className="grid gap-1 rounded-md border border-border px-3 py-2" data-status={a.status}>
              <div className="flex flex-wrap items-center gap-2">
                <Badge className={cn("gap-1", a.status === "firing" && "border-destructive-text/40 text-destructive-text")}>
                  {a.status === "firing" ? <Siren className="size-3" aria-hidden /> : <CircleCheck className="size-3" aria-hidden />}
                  {a.status === "firing" ? "Firing" : "Resolved"}
                </Badge>
                <span className="font-medium">{a.ruleName}</span>
                <span className="text-xs text-muted-foreground" title={formatDate(a.startedAt)}>
                  {timeAgo(a.startedAt)}
                  {a.resolvedAt !== null && ` · resolved ${a.resolvedBy === "user" ? "by hand" : "by itself"} ${timeAgo(a.resolvedAt)}`}
                </span>
                {a.silencedUntil !== null && a.silencedUntil > Date.now() && (
                  <Badge className="gap-1">
                    <BellOff className="size-3" aria-hidden /> Silenced until {formatDate(a.silencedUntil)}
                  </Badge>
                )}
                {a.status === "firing" && (
                  <div className="ml-auto flex gap-1">
                    <DropdownMenu>
                      <DropdownMenuTrigger asChild>
                        <Button size="sm" variant="ghost" disabled={silence.isPending}>
                          <BellOff /> Silence
                        </Button>
                      </DropdownMenuTrigger>
                      <DropdownMenuContent>
                        {silences.map((s) => (
                          <DropdownMenuItem key={s.minutes} onSelect={() => silence.mutate({ a, minutes: s.minutes })}>
                            {s.label}
                          </DropdownMenuItem>
                        ))}
                      </DropdownMenuContent>
                    </DropdownMenu>
                    <Button size="sm" variant="ghost" disabled={resolve.isPending} onClick={() => resolve.mutate(a)}>
                      <CircleCheck /> Resolve
                    </Button>
                  </div>
                )}
              </div>
              <p className="text-xs text-muted-foreground">{a.message}</p>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

/** The secret webhook deliveries are signed with (Standard Webhooks), shown on asking, and rotated. */
function WebhookSecret({ projectId }: { projectId: string }) {
  const [secret, setSecret] = useState<string | null>(null);
  const fetchSecret = useMutation({
    mutationFn: (rotate: boolean) => alertsApi.webhookSecret(projectId, rotate),
    onSuccess: setSecret,
    onError: (err) => toast.error("Couldn't get the signing secret", { description: errorMessage(err) }),
  });
  return (
    <Section title="Webhook signing secret">
      <p className="text-muted-foreground">
        Alert webhooks are signed per Standard Webhooks with this project's secret; events are
        <code className="mx-1 font-mono">alert.firing</code>,<code className="mx-1 font-mono">alert.resolved</code> and
        <code className="mx-1 font-mono">alert.test</code>.
      </p>
      {secret ? (
        <div className="flex items-center gap-2">
          <code className="min-w-0 flex-1 select-all break-all rounded bg-background px-2 py-1 font-mono text-xs">{secret}</code>
          <CopyButton text={secret} what="Secret" />
        </div>
      ) : null}
      <div className="flex gap-2">
        {!secret && (
          <Button size="sm" variant="ghost" disabled={fetchSecret.isPending} onClick={() => fetchSecret.mutate(false)}>
            <KeyRound /> Show secret
          </Button>
        )}
        <Button size="sm" variant="ghost" disabled={fetchSecret.isPending} onClick={() => fetchSecret.mutate(true)}>
          <KeyRound /> New secret
        </Button>
      </div>
    </Section>
  );
}
