// The session replay API the player reads; the types are docs/openapi.yaml's.

import { request } from "@/lib/api";
import type { components, paths } from "@/lib/schema.gen";

/** A recorded session: its id is the SDK's session id; times are the browser's unix ms; bytes are compressed. */
export type ReplaySummary = components["schemas"]["ReplaySession"];

/** A session with its parts (items, in seq order) and the seqs that never arrived (missing). */
export type ReplayDetail = paths["/api/projects/{id}/monitoring/replays/{session}"]["get"]["responses"][200]["content"]["application/json"];

/** One uploaded part of a session; fullSnapshot: playback can start there. */
export type ReplayItem = ReplayDetail["items"][number];

/** An rrweb event as stored: the player hands it to rrweb's Replayer. */
export type RecordedEvent =
  paths["/api/projects/{id}/monitoring/replays/{session}/chunks/{seq}"]["get"]["responses"][200]["content"]["application/json"][number];

const replayPath = (projectId: string, sessionId: string) =>
  `/api/projects/${encodeURIComponent(projectId)}/monitoring/replays/${encodeURIComponent(sessionId)}`;

export const replayApi = {
  detail: (projectId: string, sessionId: string, signal?: AbortSignal) =>
    request<ReplayDetail>("GET", replayPath(projectId, sessionId), { signal }),
  /** One part's events; the server sends gzip and the browser decompresses it. */
  chunk: (projectId: string, sessionId: string, seq: number, signal?: AbortSignal) =>
    request<RecordedEvent[]>("GET", `${replayPath(projectId, sessionId)}/chunks/${seq}`, { signal }),
};

export const replayKeys = {
  recording: (projectId: string, sessionId: string) => ["monitoring", projectId, "replays", "recording", sessionId] as const,
};
