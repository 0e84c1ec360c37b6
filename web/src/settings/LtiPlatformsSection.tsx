import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { KeyRound, Plus, Trash2 } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Field } from "@/components/ui/field";
import { Loading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { ltiApi, ltiKeys, type LtiPlatform, type LtiPlatformInput, type LtiTool } from "@/lti/api";

/** For platform administrators: the LMS platforms (LTI 1.3) this server trusts, and the URLs to register E-Code with in an LMS. */
export function LtiPlatformsSection() {
  const platforms = useQuery({ queryKey: ltiKeys.platforms, queryFn: ltiApi.platforms });
  const [removing, setRemoving] = useState<LtiPlatform | null>(null);
  const [rotating, setRotating] = useState(false);
  const qc = useQueryClient();
  return (
    <section aria-labelledby="lti-heading" className="grid gap-4 rounded-lg border border-border bg-panel p-5">
      <div>
        <h2 id="lti-heading" className="text-base font-semibold">
          LMS platforms (LTI 1.3)
        </h2>
        <p className="text-[13px] text-muted-foreground">
          Canvas, Moodle, Blackboard, Brightspace… Register E-Code in the LMS as an LTI 1.3 tool with the URLs below, then add the
          platform here with what the LMS gives you. Courses link on the first launch; scores go back to the LMS gradebook.
        </p>
      </div>
      {platforms.isPending && <Loading label="Loading platforms" />}
      {platforms.isError && <ErrorState error={platforms.error} onRetry={() => void platforms.refetch()} />}
      {platforms.data && (
        <>
          <ToolUrls tool={platforms.data.tool} />
          <div>
            <Button size="sm" variant="ghost" onClick={() => setRotating(true)}>
              <KeyRound /> Rotate signing key
            </Button>
          </div>
          {platforms.data.platforms.length === 0 ? (
            <p className="text-[13px] text-muted-foreground">No platforms registered yet.</p>
          ) : (
            <ul className="divide-y divide-border rounded-md border border-border" aria-label="LMS platforms">
              {platforms.data.platforms.map((p) => (
                <li key={p.id} className="flex flex-wrap items-start gap-3 px-3 py-2 text-[13px]">
                  <div className="min-w-0 flex-1">
                    <p className="font-medium">{p.name}</p>
                    <p className="truncate font-mono text-xs text-muted-foreground">
                      {p.issuer} · client {p.clientId} · deployments {p.deploymentIds.join(", ") || "any"}
                    </p>
                    <p className="text-xs text-muted-foreground">added {formatDate(p.createdAt)}</p>
                  </div>
                  <Button variant="ghost" size="icon-sm" aria-label={`Remove ${p.name}`} onClick={() => setRemoving(p)}>
                    <Trash2 />
                  </Button>
                </li>
              ))}
            </ul>
          )}
          <AddPlatform />
        </>
      )}
      <ConfirmDialog
        open={rotating}
        onOpenChange={setRotating}
        title="Rotate the tool's signing key?"
        description="Scores and deep links are signed with a new key from now on. The old key stays published a while, so LMSes that cached it keep working."
        confirmLabel="Rotate key"
        onConfirm={async () => {
          const kid = await ltiApi.rotateKey();
          toast.success("Signing key rotated", { description: `New key ${kid}` });
        }}
      />
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => !open && setRemoving(null)}
        destructive
        title={`Remove ${removing?.name ?? ""}?`}
        description="Launches from it stop working at once, and scores are no longer sent back. Linked courses stay, unlinked from it."
        confirmLabel="Remove platform"
        onConfirm={async () => {
          if (!removing) return;
          await ltiApi.removePlatform(removing.id);
          void qc.invalidateQueries({ queryKey: ltiKeys.platforms });
          toast.success(`Removed ${removing.name}`);
        }}
      />
    </section>
  );
}

function ToolUrls({ tool }: { tool: LtiTool }) {
  const rows: [string, string][] = [
    ["Login initiation URL", tool.loginUrl],
    ["Redirect (launch) URL", tool.launchUrl],
    ["Deep linking URL", tool.deepLinkUrl],
    ["Public keyset (JWKS) URL", tool.jwksUrl],
  ];
  return (
    <dl className="grid gap-2 text-[13px]" aria-label="The tool's URLs">
      {rows.map(([label, url]) => (
        <div key={label} className="flex flex-wrap items-center gap-2">
          <dt className="w-48 text-muted-foreground">{label}</dt>
          <dd className="min-w-0 flex-1 truncate font-mono text-xs">{url}</dd>
          <CopyButton text={url} what={label} />
        </div>
      ))}
    </dl>
  );
}

const empty = { name: "", issuer: "", clientId: "", deploymentIds: "", authLoginUrl: "", authTokenUrl: "", jwksUrl: "" };

function AddPlatform() {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState(empty);
  const set = (key: keyof typeof empty) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: e.target.value }));
  const add = useMutation({
    mutationFn: (input: LtiPlatformInput) => ltiApi.addPlatform(input),
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: ltiKeys.platforms });
      setForm(empty);
      setOpen(false);
      toast.success(`Registered ${p.name}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate({
      name: form.name.trim(),
      issuer: form.issuer.trim(),
      clientId: form.clientId.trim(),
      deploymentIds: form.deploymentIds
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
      authLoginUrl: form.authLoginUrl.trim(),
      authTokenUrl: form.authTokenUrl.trim(),
      jwksUrl: form.jwksUrl.trim(),
    });
  };
  if (!open) {
    return (
      <div>
        <Button size="sm" onClick={() => setOpen(true)}>
          <Plus /> Add platform
        </Button>
      </div>
    );
  }
  return (
    <form onSubmit={submit} className="grid gap-3 rounded-md border border-border p-4" aria-label="Add an LMS platform">
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Name" value={form.name} onChange={set("name")} placeholder="University Canvas" required />
        <Field label="Issuer" value={form.issuer} onChange={set("issuer")} placeholder="https://canvas.instructure.com" required />
        <Field label="Client ID" value={form.clientId} onChange={set("clientId")} required />
        <Field label="Deployment IDs" value={form.deploymentIds} onChange={set("deploymentIds")} hint="Comma-separated, as the LMS shows them" required />
        <Field label="Authentication (OIDC) URL" value={form.authLoginUrl} onChange={set("authLoginUrl")} required />
        <Field label="Access token URL" value={form.authTokenUrl} onChange={set("authTokenUrl")} required />
        <Field label="Platform JWKS URL" value={form.jwksUrl} onChange={set("jwksUrl")} required />
      </div>
      {add.isError && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {errorMessage(add.error)}
        </p>
      )}
      <div className="flex gap-2">
        <Button type="submit" variant="primary" disabled={add.isPending}>
          Register platform
        </Button>
        <Button variant="ghost" onClick={() => setOpen(false)}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
