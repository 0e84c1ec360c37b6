import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CircleCheck, Clock, ExternalLink, Lock, RefreshCw, ShieldCheck, Trash2 } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { api, errorMessage, type CustomDomain } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { cn } from "@/lib/utils";

const domainsKey = (projectId: string) => ["domains", projectId] as const;

/** The project's custom domains; a verified one waiting for its certificate is looked at again every 5 s. */
function useDomains(projectId: string) {
  return useQuery({
    queryKey: domainsKey(projectId),
    queryFn: () => api.domains(projectId),
    refetchInterval: (q) => (q.state.data?.some((d) => d.certificate.status === "pending") ? 5_000 : false),
  });
}

/**
 * Custom domains: add a name, make the DNS record shown, verify (the server fetches a token from the name,
 * which proves the name points here), then the live deployment answers on it, over HTTPS when the server
 * has TLS on. Editors change them; everyone who may read the project sees them.
 */
export function Domains({ projectId, canEdit }: { projectId: string; canEdit: boolean }) {
  const state = useDomains(projectId);
  return (
    <section aria-labelledby="domains-heading" className="grid gap-2" data-testid="custom-domains">
      <h2 id="domains-heading" className="text-sm font-semibold">
        Custom domains
      </h2>
      <p className="text-muted-foreground">
        Serve the live deployment on a domain of your own. Point its DNS here, verify, and the certificate for HTTPS is
        obtained by itself at the first visit.
      </p>
      {state.isPending && <Spinner label="Loading domains" />}
      {state.isError && <ErrorState error={state.error} onRetry={() => void state.refetch()} />}
      {state.data && (
        <>
          {state.data.length > 0 && (
            <ul aria-label="Domains" className="grid gap-2">
              {state.data.map((d) => (
                <DomainItem key={d.id} projectId={projectId} domain={d} canEdit={canEdit} />
              ))}
            </ul>
          )}
          {canEdit && <AddDomain projectId={projectId} />}
        </>
      )}
    </section>
  );
}

function AddDomain({ projectId }: { projectId: string }) {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const add = useMutation({
    mutationFn: () => api.addDomain(projectId, name.trim()),
    onSuccess: (d) => {
      setName("");
      toast.success(`${d.name} added`, { description: "Make its DNS record, then verify it." });
      void qc.invalidateQueries({ queryKey: domainsKey(projectId) });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    add.mutate();
  }
  return (
    <form onSubmit={submit} noValidate aria-label="Add a domain" className="grid gap-2 rounded-md border border-border p-3">
      <Field
        label="Domain"
        value={name}
        placeholder="shop.example.com"
        autoComplete="off"
        spellCheck={false}
        className="font-mono"
        error={add.error ? errorMessage(add.error) : null}
        onChange={(e) => setName(e.target.value)}
        hint="A name you control, such as shop.example.com or www.example.com."
      />
      <Button type="submit" size="sm" className="justify-self-start" disabled={add.isPending || !name.trim()}>
        {add.isPending && <Spinner className="text-current" />}
        Add domain
      </Button>
    </form>
  );
}

function DomainItem({ projectId, domain: d, canEdit }: { projectId: string; domain: CustomDomain; canEdit: boolean }) {
  const qc = useQueryClient();
  const [removing, setRemoving] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: domainsKey(projectId) });
  const verify = useMutation({
    mutationFn: () => api.verifyDomain(projectId, d.id),
    onSuccess: (v) => toast.success(`${v.name} is verified`, { description: "It now serves the live deployment." }),
    onSettled: () => void refresh(),
  });
  const record = `${d.record.name}. ${d.record.type} ${d.record.value}${d.record.type === "CNAME" ? "." : ""}`;
  return (
    <li className="grid gap-2 rounded-md border border-border p-3" data-testid="custom-domain">
      <div className="flex flex-wrap items-center gap-2">
        {d.verified ? (
          <a
            href={d.url}
            target="_blank"
            rel="noreferrer"
            className="inline-flex min-w-0 items-center gap-1 font-mono break-all text-link underline-offset-4 hover:underline"
          >
            {d.name}
            <ExternalLink className="size-3.5 shrink-0" aria-hidden />
          </a>
        ) : (
          <span className="font-mono break-all">{d.name}</span>
        )}
        <VerifiedBadge verified={d.verified} />
        {d.verified && <CertificateBadge certificate={d.certificate} />}
        {canEdit && (
          <Button size="sm" variant="ghost" className="ml-auto" aria-label={`Remove ${d.name}`} onClick={() => setRemoving(true)}>
            <Trash2 />
          </Button>
        )}
      </div>
      {!d.verified && (
        <div className="grid gap-2">
          <p>
            At your DNS provider, make a <strong>{d.record.type}</strong> record for{" "}
            <code className="font-mono">{d.record.name}</code> pointing to <code className="font-mono">{d.record.value}</code>
            {d.record.type === "CNAME" &&
              " (a bare domain such as example.com cannot hold a CNAME: give it an A record to this server's address)"}
            . Then verify: the server fetches <code className="font-mono break-all">{d.proofUrl}</code> and expects this
            domain's token, which it serves there itself.
          </p>
          <div className="flex items-center gap-2">
            <code className="min-w-0 flex-1 select-all break-all rounded bg-muted px-2 py-1 font-mono text-xs">{record}</code>
            <CopyButton text={record} what="Record" />
          </div>
          {verify.error && (
            <p role="alert" className="text-xs text-destructive-text">
              {errorMessage(verify.error)}
            </p>
          )}
          {canEdit && (
            <Button size="sm" className="justify-self-start" disabled={verify.isPending} onClick={() => verify.mutate()}>
              {verify.isPending ? <Spinner className="text-current" /> : <RefreshCw />}
              Verify
            </Button>
          )}
        </div>
      )}
      <ConfirmDialog
        open={removing}
        onOpenChange={setRemoving}
        title={`Remove ${d.name}?`}
        description="It stops serving the deployment at once and its certificate is deleted. Adding it again needs a new verification."
        confirmLabel="Remove domain"
        destructive
        onConfirm={async () => {
          await api.removeDomain(projectId, d.id);
          await refresh();
        }}
      />
    </li>
  );
}

function VerifiedBadge({ verified }: { verified: boolean }) {
  const Icon = verified ? CircleCheck : Clock;
  return (
    <Badge className={cn(verified && "border-primary/60 text-foreground")}>
      <Icon aria-hidden />
      {verified ? "Verified" : "Not verified"}
    </Badge>
  );
}

function CertificateBadge({ certificate }: { certificate: CustomDomain["certificate"] }) {
  if (certificate.status === "none") return null;
  if (certificate.status === "pending") {
    return (
      <Badge title="Obtained at the first HTTPS visit">
        <Lock aria-hidden />
        Certificate pending
      </Badge>
    );
  }
  return (
    <Badge className="border-primary/60 text-foreground">
      <ShieldCheck aria-hidden />
      HTTPS{certificate.notAfter !== null && ` until ${formatDate(certificate.notAfter)}`}
    </Badge>
  );
}
