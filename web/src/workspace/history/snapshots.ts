// Checkpoints with data: the routes of internal/snapshot, beside the History pane.

import { useQuery, type QueryClient } from "@tanstack/react-query";
import { dbKeys } from "@/database/queries";
import { kvKeys } from "@/kv/api";
import { request, type Checkpoint } from "@/lib/api";
import { formatBytes } from "@/lib/format";
import type { components } from "@/lib/schema.gen";
import { storageKeys } from "@/storage/api";

/** The development data kept with one checkpoint: the database, the keys, the objects. */
export type DataSnapshot = components["schemas"]["DataSnapshot"];
export type SnapshotRestore = components["schemas"]["SnapshotRestore"];
export type DataRestore = components["schemas"]["DataRestore"];

const base = (id: string) => `/api/projects/${encodeURIComponent(id)}/snapshots`;

export const snapshotApi = {
  list: (id: string, env: "dev" | "prod" = "dev") =>
    request<{ snapshots: DataSnapshot[] }>("GET", `${base(id)}?env=${env}`).then((r) => r.snapshots),
  /** Checkpoints the files and snapshots the data with them. */
  create: (id: string, message: string) =>
    request<{ checkpoint: Checkpoint; snapshot: DataSnapshot }>("POST", base(id), { json: { message } }),
  /** Brings back commit's files and data; undo names the checkpoint that undoes it. */
  restore: (id: string, commit: string) =>
    request<SnapshotRestore>("POST", `${base(id)}/${encodeURIComponent(commit)}/restore`),
  /** Brings back one snapshot's data alone (production's, before a deploy); undo names the snapshot that undoes it. */
  restoreData: (id: string, snapshot: string) =>
    request<DataRestore>("POST", `/api/projects/${encodeURIComponent(id)}/data-snapshots/${encodeURIComponent(snapshot)}/restore`),
};

export const snapshotsKey = (projectId: string) => ["snapshots", projectId] as const;

/** The newest snapshot of each checkpoint that has one, by commit; empty for people who may not see data. */
export function useSnapshots(projectId: string, enabled: boolean): ReadonlyMap<string, DataSnapshot> {
  const q = useQuery({
    queryKey: snapshotsKey(projectId),
    queryFn: () => snapshotApi.list(projectId),
    enabled,
    refetchInterval: 5_000,
  });
  const byCommit = new Map<string, DataSnapshot>();
  // Newest first: the first one seen for a commit is the one a restore brings back.
  for (const s of q.data ?? []) if (s.commit && !byCommit.has(s.commit)) byCommit.set(s.commit, s);
  return byCommit;
}

/** What a snapshot brings back, in words: "the database, 3 keys and 2 objects (1.2 kB)". */
export function describeSnapshot(s: DataSnapshot): string {
  const parts: string[] = [];
  if (s.database) parts.push("the database");
  parts.push(`${s.kvKeys} ${s.kvKeys === 1 ? "key" : "keys"}`);
  parts.push(
    `${s.objectCount} ${s.objectCount === 1 ? "object" : "objects"}` +
      (s.objectCount > 0 ? ` (${formatBytes(s.objectBytes)})` : ""),
  );
  return parts.length === 3 ? `${parts[0]}, ${parts[1]} and ${parts[2]}` : parts.join(" and ");
}

/** After a restore of env's data: the panes showing it (and the snapshot lists) load it again. */
export function invalidateData(qc: QueryClient, projectId: string, env: "dev" | "prod") {
  void qc.invalidateQueries({ queryKey: snapshotsKey(projectId) });
  void qc.invalidateQueries({ queryKey: dbKeys.all(projectId) });
  void qc.invalidateQueries({ queryKey: kvKeys.env(projectId, env) });
  void qc.invalidateQueries({ queryKey: storageKeys.env({ projectId, env }) });
}
