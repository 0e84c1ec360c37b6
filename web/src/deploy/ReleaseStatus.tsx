import { CircleCheck, Clock, TriangleAlert } from "lucide-react";
import { useEffect, useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Spinner } from "@/components/ui/spinner";
import type { Release } from "@/lib/api";
import { cn } from "@/lib/utils";
import { inProgress } from "./queries";

const labels: Record<Release["status"], string> = {
  queued: "Queued",
  building: "Building",
  ready: "Ready",
  failed: "Failed",
};

/** A release's status as a badge: queued, building (spinning), ready or failed (red). */
export function ReleaseStatus({ release }: { release: Release }) {
  const failed = release.status === "failed";
  return (
    <Badge data-testid="release-status" className={cn(failed && "border-destructive-text/40 bg-destructive/10 text-destructive-text")}>
      {release.status === "queued" && <Clock aria-hidden />}
      {release.status === "building" && <Spinner className="size-3 text-current" />}
      {release.status === "ready" && <CircleCheck aria-hidden />}
      {failed && <TriangleAlert aria-hidden />}
      {labels[release.status]}
    </Badge>
  );
}

/** How long the release has taken: its build time once done, else the time since it was asked for, ticking. */
export function useReleaseElapsed(release: Release): number {
  const going = inProgress(release);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!going) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [going]);
  if (!going) return release.buildMs ?? 0;
  return Math.max(0, now - release.createdAt);
}
