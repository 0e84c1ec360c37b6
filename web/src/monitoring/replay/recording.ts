import { ApiError } from "@/lib/api";
import { type RecordedEvent, type ReplayItem, replayApi } from "./api";

// rrweb's event types the player starts from: the page's snapshot, and the meta event (address, window size) before it.
const FULL_SNAPSHOT = 2;
export const META = 4;

/** Parts fetched at once: enough to fill the pipe, few enough to leave the page responsive. */
const PARALLEL = 4;

/** A span of the timeline with no events because parts of it never arrived; offsets in ms from the start. */
export interface Gap {
  from: number;
  to: number;
}

/** A session ready to play, or why it can't be. */
export interface Recording {
  /** Sorted by time, from the meta event before the first full snapshot. Empty: nothing can be played. */
  events: RecordedEvent[];
  /** The first event's time (unix ms): offset 0 on the timeline. */
  startMs: number;
  durationMs: number;
  /** Parts the session should have (highest seq + 1), and of them those that never arrived or could not be read. */
  parts: number;
  missingParts: number;
  gaps: Gap[];
}

/**
 * Loads every part of a session and orders its events for the replayer.
 * Parts that are missing (never uploaded, or expired while loading) are left
 * out and reported; what exists still plays. null: the session has no replay.
 */
export async function loadRecording(
  projectId: string,
  sessionId: string,
  signal: AbortSignal,
  onProgress: (loaded: number, total: number) => void,
): Promise<Recording | null> {
  let detail;
  try {
    detail = await replayApi.detail(projectId, sessionId, signal);
  } catch (err) {
    if (err instanceof ApiError && err.isNotFound) return null;
    throw err;
  }
  const parts = detail.items.map((item) => ({ item, events: null as RecordedEvent[] | null }));
  let next = 0;
  let loaded = 0;
  onProgress(0, parts.length);
  const worker = async () => {
    while (next < parts.length) {
      const part = parts[next++];
      try {
        part.events = await replayApi.chunk(projectId, sessionId, part.item.seq, signal);
      } catch (err) {
        if (!(err instanceof ApiError && err.isNotFound)) throw err;
      }
      onProgress(++loaded, parts.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, parts.length) }, worker));

  const present = parts.filter((p) => p.events !== null);
  // Array.prototype.sort is stable: events of one time keep their recorded order.
  const all = present.flatMap((p) => p.events ?? []).sort((a, b) => a.timestamp - b.timestamp);
  const full = all.findIndex((e) => e.type === FULL_SNAPSHOT);
  const meta = full < 0 ? -1 : all.findLastIndex((e, i) => i < full && e.type === META);
  const events = full < 0 ? [] : all.slice(meta < 0 ? full : meta);
  const startMs = events[0]?.timestamp ?? 0;
  const lastSeq = detail.items.at(-1)?.seq ?? -1;
  return {
    events,
    startMs,
    durationMs: events.length ? events[events.length - 1].timestamp - startMs : 0,
    parts: lastSeq + 1,
    missingParts: lastSeq + 1 - present.length,
    gaps: gapsOf(
      present.map((p) => p.item),
      startMs,
    ),
  };
}

/** The spans between consecutive present parts whose seqs are not consecutive. */
function gapsOf(items: ReplayItem[], startMs: number): Gap[] {
  const gaps: Gap[] = [];
  for (let i = 1; i < items.length; i++) {
    const [a, b] = [items[i - 1], items[i]];
    if (b.seq !== a.seq + 1 && b.firstTs > a.lastTs) gaps.push({ from: Math.max(0, a.lastTs - startMs), to: Math.max(0, b.firstTs - startMs) });
  }
  return gaps;
}
