import { Badge } from "@/components/ui/badge";
import { Meter } from "@/components/ui/meter";
import { Spinner } from "@/components/ui/spinner";
import type { SandboxGpu } from "@/lib/api";
import { formatMiB } from "@/lib/format";

/** The sandbox's GPU as rows of a <dl>: the line it waits in, or the unit it holds and what that unit reads. */
export function GpuUse({ gpu }: { gpu: SandboxGpu }) {
  return (
    <>
      <dt className="text-muted-foreground">GPU</dt>
      <dd data-testid="sandbox-gpu" className="grid min-w-0 gap-1">
        <GpuState gpu={gpu} />
      </dd>
    </>
  );
}

function GpuState({ gpu }: { gpu: SandboxGpu }) {
  const { unit, usage } = gpu;
  if (gpu.state === "waiting") {
    return (
      <span role="status" className="flex items-center gap-2 text-warning">
        <Spinner className="text-current" /> {gpu.message ?? "Waiting for a GPU to come free."}
      </span>
    );
  }
  if (gpu.state === "idle" || !unit) {
    return <span className="text-muted-foreground">{gpu.message ?? "None held: the next run, shell or command takes one."}</span>;
  }
  const total = usage?.memoryTotalMiB ?? unit.memoryMiB;
  return (
    <>
      <span className="flex flex-wrap items-center gap-2">
        {unit.name} · {formatMiB(unit.memoryMiB)}
        {unit.simulated && <Badge className="border-warning/50 text-warning">simulated</Badge>}
      </span>
      {usage?.measured ? (
        <>
          {usage.memoryUsedMiB !== undefined && (
            <Meter
              label="GPU memory"
              value={usage.memoryUsedMiB}
              max={total}
              text={`${formatMiB(usage.memoryUsedMiB)} of ${formatMiB(total)}`}
            />
          )}
          <span className="text-xs text-muted-foreground">
            {[
              usage.memoryUsedMiB !== undefined && `${formatMiB(usage.memoryUsedMiB)} of ${formatMiB(total)} used`,
              usage.utilizationPercent !== undefined && `${usage.utilizationPercent}% busy`,
            ]
              .filter(Boolean)
              .join(" · ")}
          </span>
        </>
      ) : (
        usage?.reason && <span className="text-xs text-muted-foreground">{usage.reason}</span>
      )}
    </>
  );
}
