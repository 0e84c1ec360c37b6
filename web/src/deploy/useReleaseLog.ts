import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { api, type Release } from "@/lib/api";

export interface ReleaseLog {
  /** The output so far (the server keeps a build's first MiB). */
  text: string;
  /** streaming until the server sends the release as it ended; lost when the stream was refused or broke for good. */
  state: "connecting" | "streaming" | "ended" | "lost";
}

const empty: ReleaseLog = { text: "", state: "connecting" };

/**
 * Follows a release's build log: server-sent `log` events with the output as it comes, then
 * one `status` event with the release. Every connection replays the log from its start, so a
 * reconnect starts the text over rather than repeating it. onStatus hears the release as it ended.
 */
export function useReleaseLog(projectId: string, releaseId: string, onStatus: (r: Release) => void): ReleaseLog {
  const [log, setLog] = useState<{ id: string; log: ReleaseLog }>({ id: releaseId, log: empty });
  // Read when the stream ends: a new function each render must not reconnect.
  const statusHandler = useRef(onStatus);
  useLayoutEffect(() => {
    statusHandler.current = onStatus;
  });

  useEffect(() => {
    const source = new EventSource(api.releaseLogUrl(projectId, releaseId));
    let text = "";
    let state: ReleaseLog["state"] = "connecting";
    // Output comes faster than a person reads: the screen catches up at most ten times a second.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      setLog({ id: releaseId, log: { text, state } });
    };
    const schedule = () => {
      timer ??= setTimeout(flush, 100);
    };
    source.onopen = () => {
      text = "";
      state = "streaming";
      schedule();
    };
    source.addEventListener("log", (e) => {
      text += String(e.data);
      schedule();
    });
    source.addEventListener("status", (e) => {
      source.close();
      state = "ended";
      flush();
      statusHandler.current(JSON.parse(String(e.data)) as Release);
    });
    source.onerror = () => {
      // EventSource tries again by itself unless the server refused outright (closed).
      if (source.readyState !== EventSource.CLOSED) return;
      state = "lost";
      flush();
    };
    return () => {
      source.close();
      clearTimeout(timer);
    };
  }, [projectId, releaseId]);

  // Another release's log is not this one's, for the frame before its stream opens.
  return log.id === releaseId ? log.log : empty;
}
