import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ArchiveRestore, Database as DatabaseIcon, Plus, Undo2, X } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { DangerZone, TypeToConfirm } from "@/components/DangerZone";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading, Spinner } from "@/components/ui/spinner";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { errorMessage } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { useProjectSession } from "@/workspace/model";
import { dbApi, type Database, type DatabaseBackup, type DatabaseEnv, type DatabaseStatus } from "./api";
import { Backups } from "./Backups";
import { ConnectionCard } from "./ConnectionCard";
import { DatabaseHeader } from "./DatabaseHeader";
import { dbKeys, useDatabases } from "./queries";
import { SqlConsole } from "./SqlConsole";
import { TablesBrowser } from "./TablesBrowser";

type Section = "console" | "tables" | "backups";

/** The Database tab: the project's PostgreSQL database, its console, tables and backups. */
export function DatabasePane() {
  const { project, canEdit } = useProjectSession();
  const list = useDatabases(project.id);
  const [env, setEnv] = useState<DatabaseEnv>("dev");
  if (list.isPending) return <Loading label="Loading the database" />;
  if (list.isError) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  const { databases, status } = list.data;
  const db = databases.find((d) => d.env === env) ?? databases.find((d) => d.env === "dev") ?? databases[0];
  if (!db) return <NoDatabase projectId={project.id} status={status} canEdit={canEdit} />;
  const admin = project.role === "owner" || project.role === "admin";
  return (
    <ShownDatabase
      key={db.env}
      projectId={project.id}
      db={db}
      envs={databases.map((d) => d.env)}
      onEnv={setEnv}
      canEdit={canEdit}
      admin={admin}
    />
  );
}

interface ShownProps {
  projectId: string;
  db: Database;
  envs: DatabaseEnv[];
  onEnv: (env: DatabaseEnv) => void;
  canEdit: boolean;
  admin: boolean;
}

function ShownDatabase({ projectId, db, envs, onEnv, canEdit, admin }: ShownProps) {
  const [section, setSection] = useState<Section>("console");
  const [undo, setUndo] = useState<DatabaseBackup | null>(null);
  return (
    <div className="flex h-full min-h-0 flex-col" data-testid="database-pane">
      <DatabaseHeader projectId={projectId} db={db} envs={envs} onEnv={onEnv} canEdit={canEdit} />
      <ConnectionCard projectId={projectId} db={db} canEdit={canEdit} />
      {undo && <Restored projectId={projectId} env={db.env} undo={undo} onClose={() => setUndo(null)} />}
      <Tabs value={section} onValueChange={(v) => setSection(v as Section)} className="flex min-h-0 flex-1 flex-col">
        <TabsList aria-label="Database">
          <TabsTrigger value="console">Console</TabsTrigger>
          <TabsTrigger value="tables">Tables</TabsTrigger>
          <TabsTrigger value="backups">Backups</TabsTrigger>
        </TabsList>
        <TabsContent value="console" forceMount className="min-h-0">
          <SqlConsole projectId={projectId} env={db.env} readOnly={!canEdit} />
        </TabsContent>
        <TabsContent value="tables" className="min-h-0">
          <TablesBrowser projectId={projectId} env={db.env} canEdit={canEdit} />
        </TabsContent>
        <TabsContent value="backups" className="min-h-0 overflow-auto">
          <Backups projectId={projectId} env={db.env} canEdit={canEdit} onRestored={setUndo} />
          {admin && <DeleteDatabase projectId={projectId} db={db} onDeleted={() => onEnv("dev")} />}
        </TabsContent>
      </Tabs>
    </div>
  );
}

/** Said after a restore, with the way back: restoring the backup taken just before it. */
function Restored({ projectId, env, undo, onClose }: { projectId: string; env: DatabaseEnv; undo: DatabaseBackup; onClose: () => void }) {
  const qc = useQueryClient();
  const back = useMutation({
    mutationFn: () => dbApi.restore(projectId, env, undo.id),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: dbKeys.env(projectId, env) });
      toast.success("Restore undone", { description: "The database is back as it was before the restore." });
      onClose();
    },
    onError: (err) => toast.error("Couldn't undo the restore", { description: errorMessage(err) }),
  });
  return (
    <div
      role="status"
      data-testid="restored-banner"
      className="flex flex-wrap items-center gap-2 border-b border-border bg-accent px-3 py-2 text-[13px]"
    >
      <ArchiveRestore className="size-4 shrink-0" aria-hidden />
      <span className="min-w-0 flex-1">Restored. What was there before is kept as a backup of {formatDate(undo.createdAt)}.</span>
      <Button size="sm" onClick={() => back.mutate()} disabled={back.isPending}>
        {back.isPending ? <Spinner className="text-current" /> : <Undo2 />} Undo
      </Button>
      <Button variant="ghost" size="icon-sm" aria-label="Dismiss" onClick={onClose}>
        <X />
      </Button>
    </div>
  );
}

/** No database yet: what one is, and (for editors) making it. */
function NoDatabase({ projectId, status, canEdit }: { projectId: string; status: DatabaseStatus; canEdit: boolean }) {
  const qc = useQueryClient();
  const create = useMutation({
    mutationFn: () => dbApi.create(projectId, "dev"),
    onSuccess: () => qc.invalidateQueries({ queryKey: dbKeys.all(projectId), exact: true }),
  });
  if (!status.available) {
    return (
      <EmptyState icon={DatabaseIcon} title="Databases aren't available on this server">
        <span role="alert">{status.message || "The server's PostgreSQL isn't running. Ask its administrator."}</span>
      </EmptyState>
    );
  }
  return (
    <EmptyState
      icon={DatabaseIcon}
      title="No database yet"
      action={
        canEdit && (
          <div className="grid justify-items-center gap-2">
            <Button variant="primary" onClick={() => create.mutate()} disabled={create.isPending}>
              {create.isPending ? <Spinner className="text-current" /> : <Plus />} Create database
            </Button>
            {create.isError && (
              <p role="alert" className="text-[13px] text-destructive-text">
                {errorMessage(create.error)}
              </p>
            )}
          </div>
        )
      }
    >
      A PostgreSQL database of the project's own. Its runs, shells and the agent's commands get{" "}
      <code className="font-mono">DATABASE_URL</code> to reach it; here you query it, browse its tables and back it up.
      {!canEdit && " The project's editors can create it."}
    </EmptyState>
  );
}

/** Deleting the database for good, once its name is typed (the project's owner or a team admin). */
function DeleteDatabase({ projectId, db, onDeleted }: { projectId: string; db: Database; onDeleted: () => void }) {
  const qc = useQueryClient();
  return (
    <div className="p-3 pt-0">
      <DangerZone
        title="Delete database"
        buttonLabel="Delete database"
        dialog={(close) => (
          <TypeToConfirm
            title={`Delete ${db.name}?`}
            description="Its tables, data and backups go for good. Runs started afterwards no longer get DATABASE_URL."
            label="Database name"
            matches={(typed) => typed === db.name}
            submitLabel="Delete database"
            action={() => dbApi.drop(projectId, db.env)}
            onCancel={close}
            onDone={() => {
              close();
              onDeleted();
              toast.success(`Deleted ${db.name}`);
              void qc.invalidateQueries({ queryKey: dbKeys.all(projectId) });
            }}
          />
        )}
      >
        The database, its data and all its backups are deleted for good.
      </DangerZone>
    </div>
  );
}
