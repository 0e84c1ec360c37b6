import { useQuery, useQueryClient } from "@tanstack/react-query";
import { HardDrive, Lock, Plus, Trash2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Select } from "@/components/ui/input";
import { PromptDialog } from "@/components/ui/prompt-dialog";
import { Loading } from "@/components/ui/spinner";
import { sizeText } from "@/database/bytes";
import { Segmented } from "@/deploy/Segmented";
import { Meter } from "@/components/ui/meter";
import { useProjectSession } from "@/workspace/model";
import { storageApi, storageKeys, type Bucket, type Place, type StorageEnv, type StorageUsage } from "./api";
import { BucketBrowser } from "./BucketBrowser";

const envOptions = [
  { value: "dev", label: "dev" },
  { value: "prod", label: "prod" },
] as const;

const bucketName = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** The Storage tab: the project's object storage, per environment: buckets, folders, files. */
export function StoragePane() {
  const { project, canEdit } = useProjectSession();
  const [env, setEnv] = useState<StorageEnv>("dev");
  if (!canEdit) {
    return (
      <EmptyState icon={Lock} title="Storage is for editors">
        The project's code keeps files here through its S3 or Google Cloud Storage client. Only people who can edit the
        project see them.
      </EmptyState>
    );
  }
  return <Storage key={env} place={{ projectId: project.id, env }} onEnv={setEnv} />;
}

function Storage({ place, onEnv }: { place: Place; onEnv: (env: StorageEnv) => void }) {
  const qc = useQueryClient();
  const overview = useQuery({ queryKey: storageKeys.env(place), queryFn: () => storageApi.overview(place) });
  const [chosen, setChosen] = useState("default");
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const buckets = overview.data?.buckets ?? [];
  const bucket: Bucket | undefined = buckets.find((b) => b.name === chosen) ?? buckets[0];
  return (
    <div className="flex h-full min-h-0 flex-col text-[13px]" data-testid="storage-pane">
      <section aria-label="Object storage" className="grid min-w-0 gap-2 border-b border-border p-3">
        <div className="flex flex-wrap items-center gap-2">
          <HardDrive className="size-4 text-muted-foreground" aria-hidden />
          <h2 className="font-medium">Object storage</h2>
          <Segmented label="Environment" value={place.env} onChange={onEnv} options={envOptions} />
          {overview.isSuccess && (
            <Button size="sm" className="ml-auto" onClick={() => setCreating(true)}>
              <Plus /> New bucket
            </Button>
          )}
        </div>
        {overview.data && <Usage usage={overview.data.usage} />}
        {buckets.length > 0 && bucket && (
          <div className="flex flex-wrap items-center gap-2">
            <label className="flex min-w-0 items-center gap-2">
              <span className="shrink-0 text-muted-foreground">Bucket</span>
              <Select
                aria-label="Bucket"
                value={bucket.name}
                onChange={(e) => setChosen(e.target.value)}
                className="h-8 w-auto max-w-48 min-w-0 font-mono"
              >
                {buckets.map((b) => (
                  <option key={b.name} value={b.name}>
                    {b.name}
                  </option>
                ))}
              </Select>
            </label>
            <span className="text-xs text-muted-foreground">
              {filesText(bucket.objects)} · {sizeText(bucket.bytes)}
            </span>
            <Button
              variant="ghost"
              size="icon-sm"
              className="ml-auto"
              aria-label={`Delete bucket ${bucket.name}`}
              onClick={() => setDeleting(true)}
            >
              <Trash2 />
            </Button>
          </div>
        )}
      </section>
      {overview.isPending && <Loading label="Loading storage" />}
      {overview.isError && <ErrorState error={overview.error} onRetry={() => void overview.refetch()} />}
      {bucket && <BucketBrowser key={bucket.name} place={place} bucket={bucket.name} />}
      <PromptDialog
        open={creating}
        onOpenChange={setCreating}
        title="New bucket"
        description="3 to 63 lower-case letters, digits, dots and hyphens, as on S3. Your code names it to reach it."
        label="Name"
        placeholder="photos"
        submitLabel="Create bucket"
        validate={(name) => (bucketName.test(name) ? null : "Use 3 to 63 lower-case letters, digits, dots and hyphens.")}
        onSubmit={async (name) => {
          await storageApi.createBucket(place, name);
          await qc.invalidateQueries({ queryKey: storageKeys.env(place) });
          setChosen(name);
          toast.success(`Created bucket ${name}`);
        }}
      />
      {bucket && (
        <ConfirmDialog
          open={deleting}
          onOpenChange={setDeleting}
          title={`Delete bucket ${bucket.name}?`}
          description="Only an empty bucket can be deleted: delete its files first."
          confirmLabel="Delete bucket"
          destructive
          onConfirm={async () => {
            await storageApi.deleteBucket(place, bucket.name);
            await qc.invalidateQueries({ queryKey: storageKeys.env(place) });
            setChosen("default");
            toast.success(`Deleted bucket ${bucket.name}`);
          }}
        />
      )}
    </div>
  );
}

/** "1 file", "12 files". */
function filesText(n: number): string {
  return `${n.toLocaleString()} ${n === 1 ? "file" : "files"}`;
}

/** Bytes of live objects against the environment's quota. */
function Usage({ usage }: { usage: StorageUsage }) {
  const text = `${sizeText(usage.bytes)} of ${sizeText(usage.quota)} · ${filesText(usage.objects)}`;
  return (
    <div className="grid gap-1">
      <Meter label="Storage used" value={usage.bytes} max={usage.quota} text={text} />
      <p className="text-xs text-muted-foreground" data-testid="storage-usage">
        {text}
      </p>
    </div>
  );
}
