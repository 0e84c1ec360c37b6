import { useQueryClient } from "@tanstack/react-query";
import type { Release } from "@/lib/api";
import { formatDuration } from "@/lib/format";
import { CancelBuild } from "./CancelBuild";
import { deploymentKey, inProgress, putRelease } from "./queries";
import { ReleaseStatus, useReleaseElapsed } from "./ReleaseStatus";
import { useReleaseLog } from "./useReleaseLog";

/** One release's build: where it stands, for how long, what came of it (a failed one never takes live's place), and its log as it streams. */
export function BuildLog({
  projectId,
  release,
  live,
  canCancel,
}: {
  projectId: string;
  release: Release;
  live: Release | undefined;
  /** Whether this person may cancel it (an editor). */
  canCancel: boolean;
}) {
  const qc = useQueryClient();
  const log = useReleaseLog(projectId, release.id, (ended) => {
    putRelease(qc, projectId, ended);
    void qc.invalidateQueries({ queryKey: deploymentKey(projectId) });
  });
  const elapsed = useReleaseElapsed(release);
  const going = inProgress(release);
  return (
    <section aria-label={`Build of release #${release.number}`} className="grid gap-2" data-testid="build-log">
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="font-medium">Release #{release.number}</h3>
        <ReleaseStatus release={release} />
        <span role="status" className="text-xs text-muted-foreground tabular-nums">
          {progressLine(release, elapsed)}
        </span>
        {going && canCancel && <CancelBuild projectId={projectId} release={release} />}
      </div>
      {release.status === "failed" && (
        <p role="alert" className="rounded-md border border-destructive-text/40 bg-destructive/10 px-2 py-1.5 text-destructive-text">
          {release.error || "The build failed."}{" "}
          <span className="text-foreground">
            {live ? `Release #${live.number} stays live.` : "Nothing was deployed."} Fix the build and deploy again.
          </span>
        </p>
      )}
      <div className="flex max-h-72 min-h-24 flex-col-reverse overflow-auto rounded-md border border-border bg-background">
        {/* column-reverse keeps the newest line in view while the person hasn't scrolled up */}
        <pre role="log" aria-label="Build log" className="px-2 py-1.5 font-mono text-xs leading-5 break-all whitespace-pre-wrap">
          {log.text}
          {log.text === "" && (
            <span className="text-muted-foreground">
              {log.state === "lost" ? "The log isn't available." : going ? "Waiting for the build to start…" : "This build printed nothing."}
            </span>
          )}
        </pre>
      </div>
      {log.state === "lost" && going && (
        <p className="text-xs text-muted-foreground">Lost the log's stream; the build goes on, and its status here keeps up.</p>
      )}
    </section>
  );
}

function progressLine(r: Release, elapsed: number): string {
  switch (r.status) {
    case "queued":
      return `waiting for the build before it · ${formatDuration(elapsed)}`;
    case "building":
      return `building${r.commit ? ` from ${r.commit.slice(0, 7)}` : ""} · ${formatDuration(elapsed)}`;
    case "ready":
      return `built in ${formatDuration(elapsed)}${r.live ? " · live" : ""}`;
    case "failed":
      return `failed after ${formatDuration(elapsed)}`;
  }
}
