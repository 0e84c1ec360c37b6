import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CircleCheck, Clock, KeyRound, Send, Trash2, TriangleAlert } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { api, errorMessage, type Webhook as Hook, type WebhookDelivery } from "@/lib/api";
import { timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";

const webhookKey = (projectId: string) => ["deployment-webhook", projectId] as const;

const retrying = (d: WebhookDelivery) => d.status === "pending" && Date.now() - d.createdAt < 120_000;

const events: Record<WebhookDelivery["event"], string> = {
  "execution.failed": "Scheduled run failed",
  "release.failed": "Build failed",
  "webhook.test": "Test",
};

/**
 * The failure webhook: a URL that failed scheduled runs and failed builds are posted to, signed with a
 * secret shown once; Send test; and how the latest deliveries went.
 */
export function Webhook({ projectId }: { projectId: string }) {
  const qc = useQueryClient();
  const state = useQuery({
    queryKey: webhookKey(projectId),
    queryFn: () => api.webhook(projectId),
    // A delivery being retried is looked at again until it ends (its tries take at most about a minute).
    refetchInterval: (q) => (q.state.data?.deliveries.some(retrying) ? 2_000 : false),
  });
  const [secret, setSecret] = useState<string | null>(null);
  const [removing, setRemoving] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: webhookKey(projectId) });
  const test = useMutation({
    mutationFn: () => api.testWebhook(projectId),
    onSuccess: (d) =>
      d.status === "delivered"
        ? toast.success("Test event delivered", { description: `The endpoint answered ${d.code}.` })
        : toast.error("Test event not delivered", { description: d.error }),
    onError: (err) => toast.error("Couldn't send a test event", { description: errorMessage(err) }),
    onSettled: () => void refresh(),
  });

  return (
    <section aria-labelledby="webhook-heading" className="grid gap-2" data-testid="deployment-webhook">
      <h2 id="webhook-heading" className="text-sm font-semibold">
        Failure webhook
      </h2>
      <p className="text-muted-foreground">
        When a scheduled run fails or times out, or a build fails, the platform posts a JSON event to this URL, signed
        per Standard Webhooks, and tries again a few times if the endpoint does not take it.
      </p>
      {state.isPending && <Spinner label="Loading the webhook" />}
      {state.isError && <ErrorState error={state.error} onRetry={() => void state.refetch()} />}
      {state.data && (
        <>
          <UrlForm
            projectId={projectId}
            hook={state.data.webhook}
            onSaved={(s) => {
              if (s) setSecret(s);
              void refresh();
            }}
          />
          {secret && <SecretOnce secret={secret} onDone={() => setSecret(null)} />}
          {state.data.webhook && (
            <div className="flex flex-wrap gap-2">
              <Button size="sm" disabled={test.isPending} onClick={() => test.mutate()}>
                {test.isPending ? <Spinner className="text-current" /> : <Send />}
                Send test
              </Button>
              <Button size="sm" variant="ghost" onClick={() => setRemoving(true)}>
                <Trash2 /> Remove webhook
              </Button>
            </div>
          )}
          <Deliveries deliveries={state.data.deliveries} />
        </>
      )}
      <ConfirmDialog
        open={removing}
        onOpenChange={setRemoving}
        title="Remove the webhook?"
        description="Failures are then only shown here. Setting a URL again makes a new signing secret."
        confirmLabel="Remove webhook"
        destructive
        onConfirm={async () => {
          await api.deleteWebhook(projectId);
          setSecret(null);
          await refresh();
        }}
      />
    </section>
  );
}

/** Set or change the URL; the first time (or on asking for a new one) the signing secret comes back. */
function UrlForm({ projectId, hook, onSaved }: { projectId: string; hook: Hook | null; onSaved: (secret: string | null) => void }) {
  const [url, setUrl] = useState<string | null>(null);
  const shown = url ?? hook?.url ?? "";
  const save = useMutation({
    mutationFn: (rotate: boolean) => api.setWebhook(projectId, shown.trim(), rotate),
    onSuccess: (r) => {
      setUrl(null);
      onSaved(r.secret);
      toast.success(r.secret ? "Webhook set: copy its signing secret now" : "Webhook URL saved");
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate(false);
  }
  return (
    <form onSubmit={submit} noValidate aria-label="Webhook URL" className="grid gap-2 rounded-md border border-border p-3">
      <Field
        label="Webhook URL"
        type="url"
        value={shown}
        placeholder="https://hooks.example.com/ecode"
        autoComplete="off"
        spellCheck={false}
        className="font-mono"
        error={save.error ? errorMessage(save.error) : null}
        onChange={(e) => setUrl(e.target.value)}
        hint={hook ? `Set by ${hook.updatedBy} ${timeAgo(hook.updatedAt)}.` : "Public addresses only, unless the server allows more."}
      />
      <div className="flex flex-wrap gap-2">
        <Button type="submit" size="sm" disabled={save.isPending || !shown.trim() || shown.trim() === hook?.url}>
          {save.isPending && <Spinner className="text-current" />}
          {hook ? "Save URL" : "Set webhook"}
        </Button>
        {hook && (
          <Button type="button" size="sm" variant="ghost" disabled={save.isPending} onClick={() => save.mutate(true)}>
            <KeyRound /> New signing secret
          </Button>
        )}
      </div>
    </form>
  );
}

/** The signing secret, shown this one time. */
function SecretOnce({ secret, onDone }: { secret: string; onDone: () => void }) {
  return (
    <div role="status" className="grid gap-2 rounded-md border border-primary/60 p-3" data-testid="webhook-secret">
      <p>
        The signing secret, shown only now: give it to the endpoint so it can check each event's
        <code className="mx-1 font-mono">webhook-signature</code>.
      </p>
      <div className="flex items-center gap-2">
        <code className="min-w-0 flex-1 select-all break-all rounded bg-background px-2 py-1 font-mono text-xs">{secret}</code>
        <CopyButton text={secret} what="Secret" />
      </div>
      <Button size="sm" variant="ghost" className="justify-self-start" onClick={onDone}>
        I have saved it
      </Button>
    </div>
  );
}

/** The latest deliveries, newest first, as their last try left them. */
function Deliveries({ deliveries }: { deliveries: WebhookDelivery[] }) {
  if (deliveries.length === 0) return null;
  return (
    <ul aria-label="Deliveries" className="grid gap-1" data-testid="webhook-deliveries">
      {deliveries.map((d) => (
        <li key={d.id} className="flex flex-wrap items-center gap-2 rounded-md border border-border px-2 py-1.5">
          <DeliveryStatus status={d.status} />
          <span>{events[d.event]}</span>
          <span className="text-xs text-muted-foreground">
            {d.code !== null ? `HTTP ${d.code}` : "no answer"}
            {d.attempts > 1 ? `, ${d.attempts} tries` : ""} · {timeAgo(d.createdAt)}
          </span>
          {d.status === "failed" && d.error && <span className="w-full text-xs text-destructive-text">{d.error}</span>}
        </li>
      ))}
    </ul>
  );
}

function DeliveryStatus({ status }: { status: WebhookDelivery["status"] }) {
  const Icon = status === "delivered" ? CircleCheck : status === "failed" ? TriangleAlert : Clock;
  return (
    <Badge className={cn("gap-1", status === "failed" && "border-destructive-text/40 text-destructive-text")}>
      <Icon className="size-3" aria-hidden />
      {status === "delivered" ? "Delivered" : status === "failed" ? "Failed" : "Trying"}
    </Badge>
  );
}
