import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link2, Unlink, X } from "lucide-react";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { toast } from "sonner";
import { ProviderIcon, providerErrorMessage, providerNames, providersQuery } from "@/auth/ProviderButtons";
import { FormError } from "@/auth/AuthLayout";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Loading } from "@/components/ui/spinner";
import { Tooltip } from "@/components/ui/tooltip";
import { api, type LinkedIdentity } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";

const identitiesKey = ["identities"];

/** Where Settings → Linked accounts is, for links and for the provider to come back to. */
const here = "/settings#linked-accounts";

const lastMethod =
  "This is your only way to log in. Set a password, add a passkey or link another account first.";

/**
 * Accounts at GitHub, Google... that log in to this one: link the providers the server offers,
 * unlink any (never the last way to log in; the server checks too).
 */
export function LinkedAccountsSection() {
  const providers = useQuery(providersQuery);
  const linked = useQuery({ queryKey: identitiesKey, queryFn: api.identities });
  const qc = useQueryClient();
  const [unlinking, setUnlinking] = useState<LinkedIdentity | null>(null);

  const offered = providers.data ?? [];
  const identities = linked.data?.identities ?? [];
  // Providers the server no longer offers still show while linked, so they can be removed.
  const rows = [
    ...offered.map((p) => ({ id: p.id, name: p.name, offered: true })),
    ...identities
      .filter((i) => !offered.some((p) => p.id === i.provider))
      .map((i) => ({ id: i.provider, name: i.providerName, offered: false })),
  ];
  if (providers.isSuccess && linked.isSuccess && rows.length === 0) return null;

  return (
    <section id="linked-accounts" aria-labelledby="linked-heading" className="rounded-lg border border-border bg-panel p-5">
      <h2 id="linked-heading" className="text-base font-semibold">
        Linked accounts
      </h2>
      <p className="mb-4 text-[13px] text-muted-foreground">
        Log in with an account you already have at another service. Unlink one at any time, as long as another way
        to log in remains.
      </p>
      <LinkError />
      {(providers.isPending || linked.isPending) && <Loading label="Loading linked accounts" />}
      {linked.isError && <ErrorState error={linked.error} onRetry={() => void linked.refetch()} />}
      {providers.isError && <ErrorState error={providers.error} onRetry={() => void providers.refetch()} />}
      {linked.isSuccess && providers.isSuccess && (
        <ul aria-label="Login providers" className="grid gap-2">
          {rows.map((row) => {
            const identity = identities.find((i) => i.provider === row.id);
            return (
              <li key={row.id} className="flex items-center gap-3 rounded-md border border-border px-3 py-2 text-[13px]">
                <ProviderIcon provider={row.id} className="size-4 shrink-0" />
                <div className="min-w-0 flex-1">
                  <p className="font-medium">{row.name}</p>
                  <p className="truncate text-xs text-muted-foreground">
                    {identity ? (
                      <>
                        {identity.login || identity.email || "Linked"} ·{" "}
                        <span title={formatDate(identity.createdAt)}>linked {timeAgo(identity.createdAt)}</span>
                        {!row.offered && " · no longer offered on this server"}
                      </>
                    ) : (
                      "Not linked"
                    )}
                  </p>
                </div>
                {identity ? (
                  <UnlinkButton
                    name={row.name}
                    // A provider the server no longer offers logs nobody in: it may always go.
                    blocked={row.offered && !linked.data.canUnlink}
                    onClick={() => setUnlinking(identity)}
                  />
                ) : (
                  <Button asChild variant="outline" size="sm">
                    <a href={api.providerStartUrl(row.id, { link: true, next: here })} aria-label={`Link ${row.name}`}>
                      <Link2 /> Link
                    </a>
                  </Button>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <ConfirmDialog
        open={unlinking !== null}
        onOpenChange={(open) => !open && setUnlinking(null)}
        title={`Unlink ${unlinking?.providerName ?? "this account"}?`}
        description={`You won't be able to log in with ${unlinking?.providerName ?? "it"}${
          unlinking?.login ? ` (${unlinking.login})` : ""
        } any more. You can link it again at any time.`}
        confirmLabel="Unlink"
        destructive
        onConfirm={async () => {
          if (!unlinking) return;
          await api.unlinkIdentity(unlinking.provider);
          await qc.invalidateQueries({ queryKey: identitiesKey });
          toast.success(`${unlinking.providerName} unlinked`);
        }}
      />
    </section>
  );
}

function UnlinkButton({ name, blocked, onClick }: { name: string; blocked: boolean; onClick: () => void }) {
  const button = (
    <Button variant="ghost" size="sm" disabled={blocked} onClick={onClick} aria-label={`Unlink ${name}`}>
      <Unlink /> Unlink
    </Button>
  );
  if (!blocked) return button;
  // A disabled button gets no pointer or focus events; its wrapper carries the explanation.
  return (
    <Tooltip content={lastMethod}>
      <span tabIndex={0} aria-label={`Unlink ${name}: ${lastMethod}`} className="rounded-md focus-visible:outline-2 focus-visible:outline-ring">
        {button}
      </span>
    </Tooltip>
  );
}

/** What went wrong when the provider sent the browser back here (?error=&provider=). */
function LinkError() {
  const [params, setParams] = useSearchParams();
  const code = params.get("error");
  const provider = params.get("provider");
  if (!code || !provider || !providerNames[provider]) return null;
  const dismiss = () =>
    setParams(
      (p) => {
        p.delete("error");
        p.delete("provider");
        return p;
      },
      { replace: true },
    );
  return (
    <div className="mb-4 flex items-start gap-2">
      <div className="flex-1">
        <FormError message={providerErrorMessage(code, provider)} />
      </div>
      <Button variant="ghost" size="icon-sm" onClick={dismiss} aria-label="Dismiss">
        <X />
      </Button>
    </div>
  );
}
