import { ArrowDown, Search, X } from "lucide-react";
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { Button } from "@/components/ui/button";
import { Input } from "@/components/ui/input";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage, type LogLine } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { cn } from "@/lib/utils";
import { shortId } from "./Instances";
import { Segmented } from "./Segmented";
import { useRuntimeLog, type LogSource, type RuntimeLog } from "./useRuntimeLog";

const sources: { value: LogSource; label: string }[] = [
  { value: "all", label: "All" },
  { value: "app", label: "App" },
  { value: "edge", label: "Requests" },
];

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

/** Within this many pixels of the end counts as at the end: following goes on. */
const slack = 16;

/**
 * The live app's runtime logs: its instances' output, the edge's access lines and the platform's own notes,
 * searchable and filtered by source, following new lines until the person scrolls up to read.
 */
export function RuntimeLogs({ projectId, shown }: { projectId: string; shown: boolean }) {
  const [text, setText] = useState("");
  const q = useSettled(text.trim(), 300);
  const [source, setSource] = useState<LogSource>("all");
  const log = useRuntimeLog(projectId, { q, source }, shown);
  const filtered = q !== "" || source !== "all";

  const box = useRef<HTMLDivElement>(null);
  // null while following; else the last line's seq when the person scrolled up, to count what came since.
  const [pausedAt, setPausedAt] = useState<number | null>(null);
  const newest = log.lines.at(-1)?.seq ?? 0;
  const fresh = pausedAt === null ? 0 : countAfter(log.lines, pausedAt);

  // Where the view was, so that older lines put in above keep the reader's place.
  const before = useRef({ first: 0, height: 0 });
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const first = log.lines[0]?.seq ?? 0;
    if (pausedAt === null) el.scrollTop = el.scrollHeight;
    else if (first < before.current.first) el.scrollTop += el.scrollHeight - before.current.height;
    before.current = { first, height: el.scrollHeight };
  }, [log.lines, pausedAt]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight <= slack;
    if (atEnd) setPausedAt(null);
    else if (pausedAt === null) setPausedAt(newest);
  };
  const follow = () => {
    setPausedAt(null);
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  };

  return (
    <section aria-labelledby="runtime-logs-heading" className="grid gap-2" data-testid="runtime-logs">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="runtime-logs-heading" className="text-sm font-semibold">
          Runtime logs
        </h2>
        <StreamState stream={log.stream} paused={pausedAt !== null} onReconnect={log.reconnect} />
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <div className="relative min-w-40 flex-1">
          <Search className="pointer-events-none absolute top-2 left-2 size-3.5 text-muted-foreground" aria-hidden />
          <Input
            type="search"
            aria-label="Search the logs"
            placeholder="Search the logs"
            value={text}
            autoComplete="off"
            spellCheck={false}
            className="h-7 pr-7 pl-7 text-xs [&::-webkit-search-cancel-button]:appearance-none"
            onChange={(e) => {
              setText(e.target.value);
              setPausedAt(null);
            }}
          />
          {text && (
            <button
              type="button"
              aria-label="Clear the search"
              className="absolute top-1.5 right-1.5 rounded text-muted-foreground hover:text-foreground"
              onClick={() => {
                setText("");
                setPausedAt(null);
              }}
            >
              <X className="size-4" aria-hidden />
            </button>
          )}
        </div>
        <Segmented
          label="Which lines"
          value={source}
          options={sources}
          onChange={(s) => {
            setSource(s);
            setPausedAt(null);
          }}
        />
      </div>
      <div className="relative">
        <div
          ref={box}
          onScroll={onScroll}
          tabIndex={0}
          role="log"
          aria-label="Runtime log lines"
          data-testid="runtime-log-lines"
          className="h-72 overflow-auto rounded-md border border-border bg-panel py-1 font-mono text-xs leading-5"
        >
          {log.lines.length > 0 && (
            <div className="flex items-center gap-2 px-2 pb-1 font-sans">
              {log.olderDone ? (
                <span className="text-muted-foreground">The start of the kept logs.</span>
              ) : (
                <Button size="sm" variant="ghost" disabled={log.loadingOlder} onClick={log.loadOlder}>
                  {log.loadingOlder && <Spinner className="text-current" />}
                  Load older
                </Button>
              )}
              {log.olderError && <span className="text-destructive-text">{errorMessage(log.olderError)}</span>}
            </div>
          )}
          {log.lines.length === 0 ? (
            <p className="px-2 font-sans text-muted-foreground">
              {filtered ? "No lines match." : "Nothing logged yet. What the app prints, and a line for each request, show here."}
            </p>
          ) : (
            log.lines.map((l) => <Line key={l.seq} line={l} />)
          )}
        </div>
        {pausedAt !== null && (
          <Button size="sm" variant="primary" className="absolute right-3 bottom-2 shadow" onClick={follow}>
            <ArrowDown />
            {fresh > 0 ? `${fresh} new ${fresh === 1 ? "line" : "lines"}` : "Follow"}
          </Button>
        )}
      </div>
    </section>
  );
}

function Line({ line: l }: { line: LogLine }) {
  return (
    <div data-testid="log-line" data-source={l.source} className="flex gap-2 px-2 hover:bg-muted/60">
      <time className="shrink-0 text-muted-foreground" dateTime={new Date(l.t).toISOString()} title={formatDate(l.t)}>
        {clock.format(l.t)}
      </time>
      <span
        className={cn("w-16 shrink-0 truncate", l.source === "app" ? "text-link" : "text-muted-foreground")}
        title={l.instance ?? undefined}
      >
        {l.source === "app" ? (l.instance ? shortId(l.instance) : "app") : l.source}
      </span>
      <span className={cn("min-w-0 break-all whitespace-pre-wrap", l.source === "platform" && "text-muted-foreground italic")}>
        {l.text}
      </span>
    </div>
  );
}

/** Following, paused, reconnecting, or lost (with a way back). */
function StreamState({ stream, paused, onReconnect }: { stream: RuntimeLog["stream"]; paused: boolean; onReconnect: () => void }) {
  if (stream === "lost") {
    return (
      <span role="status" className="flex items-center gap-2 text-xs text-destructive-text">
        The live logs stopped.
        <Button size="sm" onClick={onReconnect}>
          Reconnect
        </Button>
      </span>
    );
  }
  return (
    <span role="status" className="flex items-center gap-1.5 text-xs text-muted-foreground" data-testid="log-stream">
      {stream === "connecting" ? (
        <>
          <Spinner className="size-3" /> Connecting…
        </>
      ) : paused ? (
        "Paused while you read"
      ) : (
        <>
          <span className="size-1.5 rounded-full bg-primary" aria-hidden /> Live
        </>
      )}
    </span>
  );
}

/** How many of lines (sorted by seq) came after seq. */
function countAfter(lines: LogLine[], seq: number): number {
  let n = 0;
  for (let i = lines.length - 1; i >= 0 && lines[i].seq > seq; i--) n++;
  return n;
}

/** value, once it has stayed the same for ms: a search is asked as the person stops typing, not per key. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
