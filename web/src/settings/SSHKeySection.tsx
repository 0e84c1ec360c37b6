import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { KeySquare, RefreshCw, Trash2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading, Spinner } from "@/components/ui/spinner";
import { api, errorMessage } from "@/lib/api";
import { formatDate } from "@/lib/format";

export const sshKeyQuery = { queryKey: ["ssh-key"], queryFn: api.sshKey };

/** The person's own SSH key: E-Code clones their private repositories over ssh:// with it. */
export function SSHKeySection() {
  const key = useQuery(sshKeyQuery);
  const qc = useQueryClient();
  const [confirm, setConfirm] = useState<"replace" | "delete" | null>(null);
  const create = useMutation({
    mutationFn: api.createSSHKey,
    onSuccess: (k) => qc.setQueryData(sshKeyQuery.queryKey, k),
  });

  return (
    <section id="ssh-key" aria-labelledby="ssh-heading" className="rounded-lg border border-border bg-panel p-5">
      <h2 id="ssh-heading" className="text-base font-semibold">
        SSH key
      </h2>
      <p className="mb-4 text-[13px] text-muted-foreground">
        E-Code imports repositories from <code className="font-mono">ssh://</code> and{" "}
        <code className="font-mono">git@host:owner/repo</code> addresses with a key of your own. Add its public half to
        your account on GitHub, GitLab or your git server; the private half never leaves E-Code.
      </p>
      {key.isPending && <Loading label="Loading SSH key" />}
      {key.isError && <ErrorState error={key.error} onRetry={() => void key.refetch()} />}
      {key.data === null && (
        <EmptyState
          icon={KeySquare}
          title="No SSH key yet"
          action={
            <Button variant="primary" disabled={create.isPending} onClick={() => create.mutate()}>
              {create.isPending && <Spinner className="text-current" />}
              Create SSH key
            </Button>
          }
        >
          Create one, then add it to your git host.
        </EmptyState>
      )}
      {key.data && (
        <div className="grid gap-3">
          <div className="flex items-start gap-2">
            <code
              data-testid="ssh-public-key"
              className="min-w-0 flex-1 select-all break-all rounded bg-background px-2 py-1.5 font-mono text-xs"
            >
              {key.data.publicKey}
            </code>
            <CopyButton text={key.data.publicKey} what="Public key" />
          </div>
          <p className="text-xs text-muted-foreground">
            <span className="font-mono">{key.data.fingerprint}</span> · created {formatDate(key.data.createdAt)}
          </p>
          <div className="flex gap-2">
            <Button variant="outline" size="sm" onClick={() => setConfirm("replace")}>
              <RefreshCw /> Replace key
            </Button>
            <Button variant="ghost" size="sm" onClick={() => setConfirm("delete")}>
              <Trash2 /> Delete key
            </Button>
          </div>
        </div>
      )}
      {create.isError && (
        <p role="alert" className="mt-2 text-[13px] text-destructive-text">
          {errorMessage(create.error)}
        </p>
      )}
      <ConfirmDialog
        open={confirm !== null}
        onOpenChange={(open) => !open && setConfirm(null)}
        title={confirm === "delete" ? "Delete your SSH key?" : "Replace your SSH key?"}
        description="Git hosts that know the current key stop accepting it from E-Code. You'll need to add the new key to them."
        confirmLabel={confirm === "delete" ? "Delete key" : "Replace key"}
        destructive
        onConfirm={async () => {
          if (confirm === "delete") {
            await api.deleteSSHKey();
            qc.setQueryData(sshKeyQuery.queryKey, null);
            toast.success("SSH key deleted");
          } else {
            qc.setQueryData(sshKeyQuery.queryKey, await api.createSSHKey());
            toast.success("New SSH key created", { description: "Add it to your git hosts." });
          }
        }}
      />
    </section>
  );
}
