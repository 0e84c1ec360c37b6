import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Eye, EyeOff, KeyRound, PlugZap } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { dbApi, type Database } from "./api";
import { dbKeys } from "./queries";

const pgVariables = ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"];

/** How the project reaches its database, and for editors the URL itself and a new password. */
export function ConnectionCard({ projectId, db, canEdit }: { projectId: string; db: Database; canEdit: boolean }) {
  const qc = useQueryClient();
  const [url, setUrl] = useState<string | null>(null);
  const [rotating, setRotating] = useState(false);
  const reveal = useMutation({
    mutationFn: () => dbApi.credentials(projectId, db.env),
    onSuccess: (c) => setUrl(c.url),
    onError: (err) => toast.error("Couldn't show the connection URL", { description: errorMessage(err) }),
  });
  const where = db.env === "prod" ? "the project's deployments" : "every run, shell and the agent's commands";
  return (
    <section aria-label="Connection" className="grid gap-2 border-b border-border p-3 text-[13px]">
      <div className="flex flex-wrap items-center gap-x-2 gap-y-1.5">
        <p className="flex min-w-0 flex-1 basis-64 items-start gap-2 text-muted-foreground">
          <PlugZap className="mt-0.5 size-4 shrink-0" aria-hidden />
          <span>
            <code className="font-mono text-foreground">DATABASE_URL</code> and{" "}
            <code className="font-mono text-foreground" title={pgVariables.join(", ")}>
              PG*
            </code>{" "}
            are set in {where}.
          </span>
        </p>
        {canEdit && (
          <>
            <Button
              size="sm"
              disabled={reveal.isPending}
              onClick={() => (url === null ? reveal.mutate() : setUrl(null))}
              aria-expanded={url !== null}
            >
              {reveal.isPending ? <Spinner className="text-current" /> : url === null ? <Eye /> : <EyeOff />}
              {url === null ? "Show connection URL" : "Hide connection URL"}
            </Button>
            <Button size="sm" variant="ghost" onClick={() => setRotating(true)}>
              <KeyRound /> Rotate password
            </Button>
          </>
        )}
      </div>
      {url !== null && (
        <div className="flex items-center gap-2">
          <code data-testid="database-url" className="min-w-0 flex-1 rounded bg-background px-2 py-1 font-mono text-xs break-all select-all">
            {url}
          </code>
          <CopyButton text={url} what="Connection URL" />
        </div>
      )}
      <ConfirmDialog
        open={rotating}
        onOpenChange={setRotating}
        title="Rotate the database password?"
        description={
          "The role gets a new password. Runs, shells and deployments started from now on get it; " +
          "connections already open stay up, so restart your app to use it."
        }
        confirmLabel="Rotate password"
        onConfirm={async () => {
          await dbApi.rotate(projectId, db.env);
          await qc.invalidateQueries({ queryKey: dbKeys.all(projectId), exact: true });
          setUrl(null);
          toast.success("Password rotated", { description: "Restart the app so that it connects with the new one." });
        }}
      />
    </section>
  );
}
