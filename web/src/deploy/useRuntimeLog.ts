import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, type LogLine, type LogQuery } from "@/lib/api";

export type LogSource = NonNullable<LogQuery["source"]>;

export interface LogFilter {
  q: string;
  source: LogSource;
}

export interface RuntimeLog {
  /** Oldest first, by seq, no line twice. */
  lines: LogLine[];
  /** following while new lines arrive; connecting while the browser (re)connects; lost when it gave up. */
  stream: "connecting" | "following" | "lost";
  /** Paging back found the start: there is nothing older to load. */
  olderDone: boolean;
  loadOlder: () => void;
  loadingOlder: boolean;
  olderError: Error | null;
  /** Connects again after the stream was lost. */
  reconnect: () => void;
}

const pageSize = 200;
/** Following a busy app for hours must not grow the page without end: the oldest lines go first. */
const keep = 5_000;

interface View {
  key: string;
  lines: LogLine[];
  stream: RuntimeLog["stream"];
  olderDone: boolean;
}

const fresh = (key: string): View => ({ key, lines: [], stream: "connecting", olderDone: false });

/**
 * The deployment's runtime log under a filter: every (re)connection replays the matching lines so far
 * and then follows new ones, so lines already held are skipped by seq. Older lines come a page at a time.
 * While live is false (the pane hidden) the stream is closed and the lines kept.
 */
export function useRuntimeLog(projectId: string, filter: LogFilter, live: boolean): RuntimeLog {
  const key = JSON.stringify([projectId, filter.q, filter.source]);
  const [view, setView] = useState<View>(() => fresh(key));
  const [attempt, setAttempt] = useState(0);
  const current = view.key === key ? view : fresh(key);

  useEffect(() => {
    if (!live) return;
    const source = new EventSource(api.deploymentLogsUrl(projectId, { q: filter.q, source: filter.source }));
    let batch: LogLine[] = [];
    // A busy app prints faster than a person reads: the screen catches up at most ten times a second.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = (stream?: View["stream"]) => {
      clearTimeout(timer);
      timer = undefined;
      const got = batch;
      batch = [];
      setView((v) => {
        const base = v.key === key ? v : fresh(key);
        const lines = append(base.lines, got);
        if (base === v && lines === v.lines && (stream ?? v.stream) === v.stream) return v;
        return { ...base, lines, stream: stream ?? base.stream };
      });
    };
    source.onopen = () => flush("following");
    source.addEventListener("line", (e) => {
      batch.push(JSON.parse(String(e.data)) as LogLine);
      timer ??= setTimeout(flush, 100);
    });
    // EventSource tries again by itself unless the server refused outright (closed).
    source.onerror = () => flush(source.readyState === EventSource.CLOSED ? "lost" : "connecting");
    return () => {
      source.close();
      clearTimeout(timer);
    };
  }, [key, projectId, filter.q, filter.source, live, attempt]);

  const older = useMutation({
    mutationFn: (at: { key: string; before: number }) =>
      api.deploymentLogs(projectId, { q: filter.q, source: filter.source, before: at.before, limit: pageSize }),
    onSuccess: (got, at) =>
      setView((v) =>
        v.key === at.key ? { ...v, lines: prepend(got, v.lines), olderDone: got.length < pageSize } : v,
      ),
  });

  const first = current.lines[0];
  return {
    lines: current.lines,
    stream: current.stream,
    olderDone: current.olderDone,
    loadOlder: () => {
      if (first) older.mutate({ key, before: first.seq });
    },
    loadingOlder: older.isPending,
    olderError: older.error,
    reconnect: () => setAttempt((n) => n + 1),
  };
}

/** lines with the new ones after them, skipping what a replay sends again; at most keep. */
function append(lines: LogLine[], got: LogLine[]): LogLine[] {
  const last = lines.at(-1)?.seq ?? -Infinity;
  const added = got.filter((l) => l.seq > last);
  if (added.length === 0) return lines;
  const all = lines.concat(added);
  return all.length > keep ? all.slice(all.length - keep) : all;
}

/** An older page before lines. */
function prepend(got: LogLine[], lines: LogLine[]): LogLine[] {
  const first = lines[0]?.seq ?? Infinity;
  return got.filter((l) => l.seq < first).concat(lines);
}
