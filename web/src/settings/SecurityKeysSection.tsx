import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Fingerprint, KeyRound, Pencil, Plus, Trash2, TriangleAlert } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { useMe } from "@/auth/session";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { PromptDialog } from "@/components/ui/prompt-dialog";
import { Loading } from "@/components/ui/spinner";
import { api, type Passkey, type User } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { RequireKeySwitch } from "@/passkey/RequireKeySwitch";
import { PasskeyNotice, usePasskeyPlace } from "@/passkey/availability";
import { registerPasskey } from "@/passkey/webauthn";

const passkeysKey = ["passkeys"];

/** Security keys and passkeys: add, name, remove, and require one after the password. */
export function SecurityKeysSection() {
  const user = useMe().data;
  const keys = useQuery({ queryKey: passkeysKey, queryFn: api.passkeys });
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [renaming, setRenaming] = useState<Passkey | null>(null);
  const [removing, setRemoving] = useState<Passkey | null>(null);
  const place = usePasskeyPlace();
  const supported = place.kind === "here";
  const refresh = () => qc.invalidateQueries({ queryKey: passkeysKey });

  return (
    <section id="security-keys" aria-labelledby="security-keys-heading" className="rounded-lg border border-border bg-panel p-5">
      <div className="mb-1 flex items-center justify-between gap-2">
        <h2 id="security-keys-heading" className="text-base font-semibold">
          Security keys and passkeys
        </h2>
        <Button variant="outline" size="sm" disabled={!supported} onClick={() => setAdding(true)}>
          <Plus /> Add a security key
        </Button>
      </div>
      <p className="mb-4 text-[13px] text-muted-foreground">
        A passkey logs you in without a password; a security key can also be asked for after your password. Your
        browser, phone or password manager keeps passkeys; a USB or NFC key keeps its own.
      </p>
      <PasskeyNotice place={place} className="mb-4 rounded-md border border-warning/50 px-3 py-2 text-[13px]" />
      {keys.isPending && <Loading label="Loading security keys" />}
      {keys.isError && <ErrorState error={keys.error} onRetry={() => void keys.refetch()} />}
      {keys.data?.length === 0 && (
        <EmptyState icon={Fingerprint} title="No security keys yet" className="h-auto">
          Add a passkey to log in with your fingerprint, face or a USB key instead of typing a password.
        </EmptyState>
      )}
      {keys.data && keys.data.length > 0 && (
        <ul aria-label="Your security keys" className="grid gap-2">
          {keys.data.map((k) => (
            <KeyRow key={k.id} passkey={k} onRename={() => setRenaming(k)} onRemove={() => setRemoving(k)} />
          ))}
        </ul>
      )}
      {user && keys.data && <RequireKeySwitch user={user} keyCount={keys.data.length} />}

      <PromptDialog
        open={adding}
        onOpenChange={setAdding}
        title="Add a security key or passkey"
        description="Name it after the device or key, then follow your browser's prompt."
        label="Name"
        placeholder="Laptop key"
        submitLabel="Continue"
        onSubmit={async (name) => {
          const p = await registerPasskey(name);
          await refresh();
          toast.success(`Added ${p.name}`);
        }}
      />
      <PromptDialog
        open={renaming !== null}
        onOpenChange={(open) => !open && setRenaming(null)}
        title="Rename security key"
        label="Name"
        initialValue={renaming?.name}
        submitLabel="Rename"
        onSubmit={async (name) => {
          if (!renaming) return;
          await api.renamePasskey(renaming.id, name);
          await refresh();
        }}
      />
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => !open && setRemoving(null)}
        title={`Remove ${removing?.name ?? "security key"}?`}
        description={removeWarning(user, keys.data?.length ?? 0)}
        confirmLabel="Remove key"
        destructive
        onConfirm={async () => {
          if (!removing) return;
          await api.deletePasskey(removing.id);
          await refresh();
          toast.success(`Removed ${removing.name}`);
        }}
      />
    </section>
  );
}

function removeWarning(user: User | null | undefined, count: number): string {
  const base = "It can no longer be used to log in to E-Code. Remove it from the device or password manager too.";
  if (user?.requireKey && count === 1) {
    return `${base} It is your last key and your logins require one: turn off “Require a security key after the password” first.`;
  }
  return base;
}

function KeyRow({ passkey: k, onRename, onRemove }: { passkey: Passkey; onRename: () => void; onRemove: () => void }) {
  return (
    <li className="flex items-center gap-3 rounded-md border border-border px-3 py-2 text-[13px]">
      <KeyRound className="size-4 shrink-0 text-muted-foreground" aria-hidden />
      <div className="min-w-0 flex-1">
        <p className="flex flex-wrap items-center gap-1.5 font-medium">
          <span className="truncate">{k.name}</span>
          {k.backedUp && <Badge>synced passkey</Badge>}
          {k.cloneWarning && (
            <Badge
              className="border-warning/50 text-warning"
              title="This key once answered as a copy of it would; that login was refused."
            >
              <TriangleAlert /> possible copy
            </Badge>
          )}
        </p>
        <p className="text-xs text-muted-foreground">
          <span title={formatDate(k.createdAt)}>Added {timeAgo(k.createdAt)}</span> ·{" "}
          {k.lastUsedAt ? <span title={formatDate(k.lastUsedAt)}>last used {timeAgo(k.lastUsedAt)}</span> : "never used"}
          {k.discoverable ? " · signs in without a password" : ""}
        </p>
      </div>
      <Button variant="ghost" size="sm" onClick={onRename} aria-label={`Rename ${k.name}`}>
        <Pencil /> Rename
      </Button>
      <Button variant="ghost" size="sm" onClick={onRemove} aria-label={`Remove ${k.name}`}>
        <Trash2 /> Remove
      </Button>
    </li>
  );
}

