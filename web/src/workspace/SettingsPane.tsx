import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { RotateCcw, RefreshCw } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Loading, Spinner } from "@/components/ui/spinner";
import { GpuChoice } from "@/gpu/GpuChoice";
import { GpuUse } from "@/gpu/GpuUse";
import { api, ApiError, errorMessage, type ResourceChoice, type Resources, type ResourceSettings, type SandboxStatus } from "@/lib/api";
import { useProjectSession } from "./model";

/** The limits the form edits as numbers; the GPU has its own switch. */
type Key = Exclude<keyof Resources, "gpu">;
type Draft = Record<Key, number | null>;

const MiB = 1 << 20;

/** How each resource is edited: memory and disk in MiB, CPU in cores, processes as a count. */
const fields: { key: Key; label: string; unit: string; scale: number; step: number; show: (v: number) => string }[] = [
  { key: "memoryBytes", label: "Memory", unit: "MiB", scale: MiB, step: 64, show: bytes },
  { key: "cpus", label: "CPU", unit: "cores", scale: 1, step: 0.1, show: (v) => `${round(v)} ${v === 1 ? "core" : "cores"}` },
  { key: "pids", label: "Processes", unit: "processes", scale: 1, step: 16, show: (v) => `${v} processes` },
  { key: "diskBytes", label: "Disk", unit: "MiB", scale: MiB, step: 64, show: bytes },
];

function bytes(n: number): string {
  if (n >= 1 << 30) return `${round(n / (1 << 30))} GiB`;
  return `${round(n / MiB)} MiB`;
}

function round(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** The choices as the form holds them: null where the project takes the default. */
function chosen(c: ResourceChoice): Draft {
  return { memoryBytes: c.memoryBytes ?? null, cpus: c.cpus ?? null, pids: c.pids ?? null, diskBytes: c.diskBytes ?? null };
}

const resourcesKey = (id: string) => ["resources", id] as const;
const sandboxKey = (id: string) => ["sandbox", id] as const;

/** The project's settings: the resources of its sandbox, within what the server's administrator allows. */
export function SettingsPane() {
  const { project } = useProjectSession();
  const settings = useQuery({ queryKey: resourcesKey(project.id), queryFn: () => api.resources(project.id) });
  return (
    <div className="grid content-start gap-4 overflow-auto p-3 text-[13px]">
      <section aria-labelledby="resources-heading" className="grid gap-3">
        <div>
          <h2 id="resources-heading" className="text-sm font-semibold">
            Resources
          </h2>
          <p className="text-xs text-muted-foreground">
            What this project's sandbox may use. The server's administrator sets the ceilings.
          </p>
        </div>
        {settings.isPending && <Loading label="Loading the project's resources" />}
        {settings.isError && <ErrorState error={settings.error} onRetry={() => void settings.refetch()} />}
        {settings.data && <ResourceForm settings={settings.data} />}
      </section>
      <SandboxUsage />
    </div>
  );
}

function ResourceForm({ settings }: { settings: ResourceSettings }) {
  const { project } = useProjectSession();
  const qc = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => chosen(settings.custom));
  // "" for none, as the switch holds it; saved as null.
  const [gpu, setGpu] = useState(settings.custom.gpu ?? "");
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: (choice: ResourceChoice) => api.setResources(project.id, choice),
    onSuccess: (next) => {
      qc.setQueryData(resourcesKey(project.id), next);
      setSaved(true);
    },
  });
  const value = (k: Key) => draft[k] ?? settings.default[k];
  const problem = (k: Key): string | null => {
    const v = value(k);
    const f = fields.find((f) => f.key === k)!;
    if (!Number.isFinite(v)) return "Enter a number.";
    if (v > settings.max[k]) return `At most ${f.show(settings.max[k])} on this server.`;
    if (v < settings.min[k]) return `At least ${f.show(settings.min[k])}.`;
    return null;
  };
  const invalid = fields.some((f) => problem(f.key) !== null);
  const changed = fields.some((f) => draft[f.key] !== chosen(settings.custom)[f.key]) || gpu !== (settings.custom.gpu ?? "");
  // gpu_unavailable, gpu_not_in_plan, gpu_want_invalid: said beside the GPU switch.
  const gpuError = save.error instanceof ApiError && save.error.code.startsWith("gpu_") ? save.error.message : null;

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!invalid) save.mutate({ ...draft, gpu: gpu || null });
  }
  const set = (k: Key, v: number | null) => {
    setSaved(false);
    setDraft((d) => ({ ...d, [k]: v }));
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Sandbox resources" className="grid gap-3">
      {fields.map((f) => {
        const id = `resource-${f.key}`;
        const error = problem(f.key);
        const v = value(f.key);
        return (
          <div key={f.key} className="grid gap-1">
            <div className="flex items-baseline justify-between gap-2">
              <Label htmlFor={id}>{f.label}</Label>
              <span className="text-xs text-muted-foreground">
                {draft[f.key] === null ? "default" : "this project's own"} · at most {f.show(settings.max[f.key])}
              </span>
            </div>
            <div className="flex items-center gap-2">
              <input
                type="range"
                aria-label={`${f.label} slider`}
                className="min-w-0 flex-1 accent-primary"
                min={settings.min[f.key] / f.scale}
                max={settings.max[f.key] / f.scale}
                step={f.step}
                disabled={!settings.canEdit}
                value={v / f.scale}
                onChange={(e) => set(f.key, Math.round(Number(e.target.value) * f.scale))}
              />
              <Input
                id={id}
                type="number"
                inputMode="decimal"
                className="h-8 w-24 text-right"
                min={settings.min[f.key] / f.scale}
                max={settings.max[f.key] / f.scale}
                step={f.step}
                disabled={!settings.canEdit}
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? `${id}-error` : undefined}
                value={round(v / f.scale)}
                onChange={(e) => set(f.key, e.target.value === "" ? NaN : Number(e.target.value) * f.scale)}
              />
              <span className="w-16 text-xs text-muted-foreground">{f.unit}</span>
            </div>
            {f.key === "diskBytes" && (
              <p className="text-xs text-muted-foreground">The files use {bytes(settings.diskUsed)} now.</p>
            )}
            {error && (
              <p id={`${id}-error`} role="alert" className="text-xs text-destructive-text">
                {error}
              </p>
            )}
          </div>
        );
      })}
      <GpuChoice
        kinds={settings.gpu}
        value={gpu}
        disabled={!settings.canEdit}
        error={gpuError}
        hint="The sandbox holds one while it runs: CUDA and nvidia-smi see it alone. When all are in use, it waits its turn."
        onChange={(want) => {
          setSaved(false);
          setGpu(want);
        }}
      />
      {settings.canEdit ? (
        <div className="flex flex-wrap items-center gap-2">
          <Button type="submit" variant="primary" disabled={invalid || !changed || save.isPending}>
            {save.isPending && <Spinner />} Save
          </Button>
          <Button
            variant="ghost"
            disabled={fields.every((f) => draft[f.key] === null) && gpu === ""}
            onClick={() => {
              setSaved(false);
              setDraft({ memoryBytes: null, cpus: null, pids: null, diskBytes: null });
              setGpu("");
            }}
          >
            <RotateCcw /> Use the defaults
          </Button>
        </div>
      ) : (
        <p className="text-xs text-muted-foreground">Only the project's owner (or an admin of its team) changes these.</p>
      )}
      {save.isError && !gpuError && (
        <p role="alert" className="text-xs text-destructive-text">
          {errorMessage(save.error)}
        </p>
      )}
      {saved && (
        <p role="status" className="text-xs">
          Saved. Memory, CPU, processes and the GPU apply when the sandbox restarts; the disk limit applies now.
        </p>
      )}
    </form>
  );
}

/** The running sandbox: the limits its cgroup holds it to and what it uses, with a restart that applies new settings. */
function SandboxUsage() {
  const { project, canEdit } = useProjectSession();
  const qc = useQueryClient();
  const status = useQuery({ queryKey: sandboxKey(project.id), queryFn: () => api.sandbox(project.id), refetchInterval: 5000 });
  const settings = useQuery({ queryKey: resourcesKey(project.id), queryFn: () => api.resources(project.id) });
  const restart = useMutation({
    mutationFn: () => api.restartSandbox(project.id),
    onSuccess: (next) => {
      qc.setQueryData(sandboxKey(project.id), next);
      toast.success("The sandbox restarted with the project's resources.");
    },
  });
  return (
    <section aria-labelledby="sandbox-heading" className="grid gap-2 border-t border-border pt-3">
      <div className="flex items-center justify-between gap-2">
        <h2 id="sandbox-heading" className="text-sm font-semibold">
          Sandbox
        </h2>
        {canEdit && (
          <Button size="sm" onClick={() => restart.mutate()} disabled={restart.isPending}>
            {restart.isPending ? <Spinner /> : <RefreshCw />} Restart sandbox
          </Button>
        )}
      </div>
      <p className="text-xs text-muted-foreground">
        Changes apply when the sandbox restarts. Restarting stops the run, shells and commands in it.
      </p>
      {restart.isError && (
        <p role="alert" className="text-xs text-destructive-text">
          {errorMessage(restart.error)}
        </p>
      )}
      {status.isError && <ErrorState error={status.error} onRetry={() => void status.refetch()} />}
      {status.data && <SandboxFigures status={status.data} next={settings.data?.effective} />}
    </section>
  );
}

function SandboxFigures({ status, next }: { status: SandboxStatus; next?: Resources }) {
  // A start can wait in line for a GPU before the sandbox runs, so the GPU's line shows either way.
  const gpu = status.gpu && <GpuUse gpu={status.gpu} />;
  const r = status.running ? status.resources : null;
  const pending =
    r && next && (next.memoryBytes !== r.memoryBytes || next.pids !== r.pids || Math.abs(next.cpus - r.cpus) > 0.001);
  return (
    <>
      {!status.running && <p role="status">Not running: the next run, shell or command starts it.</p>}
      {status.running && !r && (
        <p role="status">Running. This server cannot measure its sandboxes (no cgroups), so only the settings above are known.</p>
      )}
      {(r || gpu) && (
        <dl aria-label="Sandbox use" className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1">
          {r && (
            <>
              <dt className="text-muted-foreground">Memory</dt>
              <dd data-testid="sandbox-memory">
                {bytes(r.memoryUsed)} of {r.memoryBytes ? bytes(r.memoryBytes) : "no limit"}
              </dd>
              <dt className="text-muted-foreground">CPU</dt>
              <dd data-testid="sandbox-cpus">{r.cpus ? `${round(r.cpus)} cores` : "no limit"}</dd>
              <dt className="text-muted-foreground">Processes</dt>
              <dd data-testid="sandbox-pids">
                {r.pidsUsed} of {r.pids || "no limit"}
              </dd>
            </>
          )}
          {gpu}
        </dl>
      )}
      {pending && (
        <p role="status" className="text-xs text-warning">
          The settings differ from what the running sandbox has: they apply when it restarts.
        </p>
      )}
    </>
  );
}
