import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { KeyRound, Trash2 } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Loading, Spinner } from "@/components/ui/spinner";
import { api, errorMessage, type Token } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";

const tokensKey = ["tokens"];

export function TokensSection() {
  const tokens = useQuery({ queryKey: tokensKey, queryFn: api.listTokens });
  const [revoking, setRevoking] = useState<Token | null>(null);
  const qc = useQueryClient();

  return (
    <section aria-labelledby="tokens-heading" className="rounded-lg border border-border bg-panel p-5">
      <h2 id="tokens-heading" className="text-base font-semibold">
        API tokens
      </h2>
      <p className="mb-4 text-[13px] text-muted-foreground">
        Tokens let scripts and the CLI act as you. Send one as <code className="font-mono">Authorization: Bearer …</code>.
      </p>
      <CreateTokenForm />
      <div className="mt-5">
        {tokens.isPending && <Loading label="Loading tokens" />}
        {tokens.isError && <ErrorState error={tokens.error} onRetry={() => void tokens.refetch()} />}
        {tokens.data?.length === 0 && (
          <EmptyState icon={KeyRound} title="No tokens yet">
            Create one above when a script needs to reach E-Code.
          </EmptyState>
        )}
        {tokens.data && tokens.data.length > 0 && (
          <table className="w-full text-left text-[13px]">
            <caption className="sr-only">Your API tokens</caption>
            <thead className="text-xs text-muted-foreground">
              <tr className="border-b border-border">
                <th className="py-2 font-medium">Name</th>
                <th className="py-2 font-medium">Created</th>
                <th className="hidden py-2 font-medium sm:table-cell">Last used</th>
                <th className="hidden py-2 font-medium sm:table-cell">Expires</th>
                <th className="py-2">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id} className="border-b border-border last:border-0">
                  <td className="py-2 font-medium">{t.name}</td>
                  <td className="py-2" title={formatDate(t.createdAt)}>
                    {timeAgo(t.createdAt)}
                  </td>
                  <td className="hidden py-2 sm:table-cell">{t.lastUsedAt ? timeAgo(t.lastUsedAt) : "Never"}</td>
                  <td className="hidden py-2 sm:table-cell">{t.expiresAt ? formatDate(t.expiresAt) : "Never"}</td>
                  <td className="py-2 text-right">
                    <Button variant="ghost" size="sm" onClick={() => setRevoking(t)} aria-label={`Revoke ${t.name}`}>
                      <Trash2 /> Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <ConfirmDialog
        open={revoking !== null}
        onOpenChange={(open) => !open && setRevoking(null)}
        title={`Revoke ${revoking?.name ?? "token"}?`}
        description="Anything using this token stops working immediately."
        confirmLabel="Revoke token"
        destructive
        onConfirm={async () => {
          if (!revoking) return;
          await api.revokeToken(revoking.id);
          await qc.invalidateQueries({ queryKey: tokensKey });
          toast.success(`Revoked ${revoking.name}`);
        }}
      />
    </section>
  );
}

function CreateTokenForm() {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [days, setDays] = useState("30");
  const [nameError, setNameError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => api.createToken(name.trim(), days ? Number(days) : undefined),
    onSuccess: () => {
      setName("");
      void qc.invalidateQueries({ queryKey: tokensKey });
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!name.trim()) return setNameError("Name the token after what will use it, e.g. “laptop CLI”.");
    create.mutate();
  }

  return (
    <div className="grid gap-3">
      <form onSubmit={submit} noValidate className="flex flex-col gap-3 sm:flex-row sm:items-start">
        <div className="flex-1">
          <Field
            label="Token name"
            value={name}
            error={nameError}
            placeholder="laptop CLI"
            onChange={(e) => {
              setName(e.target.value);
              setNameError(null);
            }}
          />
        </div>
        <div className="grid gap-1.5 sm:w-40">
          <Label htmlFor="token-expiry">Expires</Label>
          <Select id="token-expiry" value={days} onChange={(e) => setDays(e.target.value)}>
            <option value="7">In 7 days</option>
            <option value="30">In 30 days</option>
            <option value="90">In 90 days</option>
            <option value="365">In a year</option>
            <option value="">Never</option>
          </Select>
        </div>
        <Button type="submit" variant="primary" className="sm:mt-[22px] h-9" disabled={create.isPending}>
          {create.isPending && <Spinner className="text-current" />}
          Create token
        </Button>
      </form>
      {create.isError && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {errorMessage(create.error)}
        </p>
      )}
      {create.data && <NewTokenNotice token={create.data.token} onDismiss={() => create.reset()} />}
    </div>
  );
}

function NewTokenNotice({ token, onDismiss }: { token: string; onDismiss: () => void }) {
  return (
    <div role="status" className="grid gap-2 rounded-md border border-primary/50 bg-accent p-3">
      <p className="text-[13px] font-medium">Copy your new token now. You won't be able to see it again.</p>
      <div className="flex items-center gap-2">
        <code data-testid="new-token" className="min-w-0 flex-1 select-all truncate rounded bg-background px-2 py-1.5 font-mono text-[13px]">
          {token}
        </code>
        <CopyButton text={token} what="Token" />
        <Button variant="ghost" size="sm" onClick={onDismiss}>
          Done
        </Button>
      </div>
    </div>
  );
}
