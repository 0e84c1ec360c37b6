import { useQuery } from "@tanstack/react-query";
import { TriangleAlert } from "lucide-react";
import type { ReactNode } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Loading } from "@/components/ui/spinner";
import { api, type AdminGpus, type GpuDevice, type GpuUnitState, type GpuWaiting } from "@/lib/api";
import { formatDate, formatMiB, timeAgo } from "@/lib/format";

/** For platform administrators: the server's GPUs, who holds each unit since when, and who waits in line. */
export function GpusSection() {
  // Leases come and go as sandboxes start and stop: keep the page current.
  const gpus = useQuery({ queryKey: ["admin", "gpus"], queryFn: api.adminGpus, refetchInterval: 5_000 });
  const simulated = gpus.data && (gpus.data.inventory.simulated || gpus.data.pool.simulated);
  return (
    <section aria-labelledby="gpus-heading" className="grid gap-4 rounded-lg border border-border bg-panel p-5">
      <div>
        <h2 id="gpus-heading" className="flex items-center gap-2 text-base font-semibold">
          GPUs {simulated && <Badge className="border-warning/50 text-warning">simulated</Badge>}
        </h2>
        <p className="text-[13px] text-muted-foreground">
          The GPUs this server found. A project or deployment that asks for one holds a unit (a whole GPU, or a MIG slice of
          one) while its sandbox runs; the others wait in line, first come first served.
        </p>
      </div>
      {gpus.isPending && <Loading label="Loading the GPUs" />}
      {gpus.isError && <ErrorState error={gpus.error} onRetry={() => void gpus.refetch()} />}
      {gpus.data && <GpuOverview gpus={gpus.data} />}
    </section>
  );
}

function GpuOverview({ gpus: { inventory, pool } }: { gpus: AdminGpus }) {
  const { devices } = inventory;
  const { units, queue } = pool;
  const reasons = [...new Set([inventory.reason, pool.reason].filter((r): r is string => !!r))];
  return (
    <div className="grid gap-4 text-[13px]">
      {reasons.map((r) => (
        <p key={r} className="text-muted-foreground">
          {r}
        </p>
      ))}
      {inventory.warnings && inventory.warnings.length > 0 && (
        <ul role="alert" aria-label="GPU warnings" className="grid gap-1 rounded-md border border-warning/50 bg-warning/10 p-3">
          {inventory.warnings.map((w) => (
            <li key={w} className="flex items-start gap-2">
              <TriangleAlert className="mt-0.5 size-4 shrink-0 text-warning" aria-hidden />
              {w}
            </li>
          ))}
        </ul>
      )}
      {devices.length > 0 && (
        <Listing title="Devices">
          <ul aria-label="GPU devices" className="divide-y divide-border rounded-md border border-border">
            {devices.map((d) => (
              <DeviceRow key={d.uuid} device={d} />
            ))}
          </ul>
        </Listing>
      )}
      {units.length > 0 && (
        <Listing title="Units">
          <ul aria-label="GPU units" className="divide-y divide-border rounded-md border border-border">
            {units.map((u) => (
              <UnitRow key={u.uuid} unit={u} />
            ))}
          </ul>
        </Listing>
      )}
      {devices.length > 0 && (
        <Listing title="Waiting">
          {queue.length === 0 ? (
            <p className="text-muted-foreground">Nobody waits for a GPU.</p>
          ) : (
            <ol aria-label="GPU queue" className="divide-y divide-border rounded-md border border-border">
              {queue.map((w, i) => (
                <WaitingRow key={`${w.owner}-${i}`} place={i + 1} waiting={w} />
              ))}
            </ol>
          )}
        </Listing>
      )}
    </div>
  );
}

function Listing({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="grid gap-2">
      <h3 className="text-[13px] font-semibold">{title}</h3>
      {children}
    </div>
  );
}

function DeviceRow({ device: d }: { device: GpuDevice }) {
  const slices = d.slices ?? [];
  return (
    <li className="grid gap-0.5 px-3 py-2">
      <p className="font-medium">
        GPU {d.index}: {d.name} · {formatMiB(d.memoryMiB)}
      </p>
      <p className="truncate font-mono text-xs text-muted-foreground">
        {d.uuid}
        {d.busId && ` · ${d.busId}`}
      </p>
      <p className="text-xs text-muted-foreground">
        {d.mig
          ? `MIG mode: ${slices.length === 0 ? "no slices made yet" : slices.map((s) => `${s.name} (${formatMiB(s.memoryMiB)})`).join(", ")}`
          : "Handed out whole"}
      </p>
    </li>
  );
}

function UnitRow({ unit: u }: { unit: GpuUnitState }) {
  return (
    <li className="flex flex-wrap items-start gap-x-3 gap-y-0.5 px-3 py-2">
      <div className="min-w-0 flex-1">
        <p className="font-medium">
          {u.name} · {formatMiB(u.memoryMiB)}
        </p>
        <p className="text-xs text-muted-foreground">on GPU {u.gpuIndex}</p>
      </div>
      {u.problem ? (
        <p className="text-destructive-text">Unusable: {u.problem}</p>
      ) : u.owner ? (
        <p>
          held by <span className="font-mono">{u.owner}</span>
          {u.since !== undefined && <Since at={u.since} />}
        </p>
      ) : (
        <p className="text-muted-foreground">free</p>
      )}
    </li>
  );
}

function WaitingRow({ place, waiting: w }: { place: number; waiting: GpuWaiting }) {
  return (
    <li className="px-3 py-2">
      {place}. <span className="font-mono">{w.owner}</span> wants {describeWant(w.want)}
      <Since at={w.since} />
    </li>
  );
}

/** " since 3 minutes ago", with the exact time on hover; at is RFC 3339. */
function Since({ at }: { at: string }) {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return null;
  return (
    <span className="text-muted-foreground" title={formatDate(ms)}>
      {" "}
      since {timeAgo(ms)}
    </span>
  );
}

/** The want in words, as the server's own messages say it: "a MIG 1g.10gb slice", "a whole GPU with at least 40960 MiB". */
function describeWant(want: GpuWaiting["want"]): string {
  const what = want.profile ? `a MIG ${want.profile} slice` : want.whole ? "a whole GPU" : "a GPU";
  return want.minMiB ? `${what} with at least ${formatMiB(want.minMiB)}` : what;
}
