import { useQueryClient } from "@tanstack/react-query";
import { CopyPlus } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { errorMessage } from "@/lib/api";
import { dbApi, type DatabaseEnv } from "./api";
import { dbKeys } from "./queries";

interface CopyToProdProps {
  projectId: string;
  /** Whether production has a database yet (a deploy makes it, or this). */
  hasProd: boolean;
  onCopied: (env: DatabaseEnv) => void;
}

/** Development's schema, and its rows when asked, into production: production is backed up first, so it can be undone. */
export function CopyToProd({ projectId, hasProd, onCopied }: CopyToProdProps) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [withData, setWithData] = useState(false);
  return (
    <>
      <Button size="sm" variant="ghost" onClick={() => setOpen(true)}>
        <CopyPlus /> Copy to production
      </Button>
      <ConfirmDialog
        open={open}
        onOpenChange={setOpen}
        title="Copy development into production?"
        description={
          <span className="grid gap-3">
            <span>
              {hasProd
                ? "Production's tables are replaced by development's. Production is backed up first, so this can be undone."
                : "Production gets its database now, with development's tables (a first deploy would make it with the schema only)."}
            </span>
            <label className="flex items-center gap-2 text-foreground">
              <input type="checkbox" checked={withData} onChange={(e) => setWithData(e.target.checked)} />
              Copy the rows too, not only the schema
            </label>
          </span>
        }
        confirmLabel={withData ? "Copy schema and data" : "Copy schema"}
        destructive={hasProd}
        onConfirm={async () => {
          const { undo } = await dbApi.copyToProd(projectId, withData);
          await qc.invalidateQueries({ queryKey: dbKeys.all(projectId) });
          onCopied("prod");
          toast.success("Production now has development's " + (withData ? "schema and data" : "schema"), {
            action: undo
              ? {
                  label: "Undo",
                  onClick: () =>
                    void dbApi
                      .restore(projectId, "prod", undo.id)
                      .then(() => qc.invalidateQueries({ queryKey: dbKeys.all(projectId) }))
                      .then(() => toast.success("Production is back as it was"))
                      .catch((err: unknown) => toast.error("Couldn't undo the copy", { description: errorMessage(err) })),
                }
              : undefined,
          });
        }}
      />
    </>
  );
}
