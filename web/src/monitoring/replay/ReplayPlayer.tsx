import { useQuery } from "@tanstack/react-query";
import { Pause, Play, TriangleAlert } from "lucide-react";
import { useEffect, useId, useRef, useState } from "react";
import type { Replayer } from "rrweb";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Loading } from "@/components/ui/spinner";
import { replayKeys } from "./api";
import { META, type Recording, loadRecording } from "./recording";

/** How far before an error playback starts, to show what led to it. */
const LEAD_IN_MS = 5000;
const SPEEDS = [1, 2, 4, 8] as const;

/**
 * Plays a recorded session of a deployed app: the page as the visitor saw it
 * (text and inputs masked when they were recorded), with play/pause, seek and
 * speed. Parts that never arrived are reported and skipped. atMs (unix ms)
 * starts near that moment, such as an error's.
 */
export function ReplayPlayer({ projectId, sessionId, atMs }: { projectId: string; sessionId: string; atMs?: number }) {
  const [progress, setProgress] = useState<{ loaded: number; total: number } | null>(null);
  const recording = useQuery({
    queryKey: replayKeys.recording(projectId, sessionId),
    queryFn: ({ signal }) => loadRecording(projectId, sessionId, signal, (loaded, total) => setProgress({ loaded, total })),
    staleTime: Infinity,
    gcTime: 0, // a long session's events are large: don't keep them once the player closes
  });
  return (
    <section aria-label="Session replay" className="grid gap-3">
      {recording.isPending ? (
        <Loading label={progress && progress.total > 0 ? `Loading part ${progress.loaded} of ${progress.total}` : "Loading the replay"} />
      ) : recording.isError ? (
        <ErrorState error={recording.error} onRetry={() => void recording.refetch()} title="Couldn't load the replay" />
      ) : recording.data === null ? (
        <p className="text-muted-foreground">No replay was recorded for this session, or it has expired.</p>
      ) : (
        <>
          {recording.data.missingParts > 0 && (
            <p role="note" className="flex items-start gap-2 rounded-md border border-border bg-muted p-2 text-[13px]">
              <TriangleAlert aria-hidden className="mt-0.5 size-4 shrink-0 text-warning" />
              Part of this session is missing ({recording.data.missingParts} of {recording.data.parts} parts never arrived or have expired).
              What was recorded still plays; the missing stretches are skipped.
            </p>
          )}
          {recording.data.events.length === 0 ? (
            <p className="text-muted-foreground">
              This session can't be played: the snapshot of the page its recording starts from is missing.
            </p>
          ) : (
            <Stage recording={recording.data} atMs={atMs} />
          )}
        </>
      )}
    </section>
  );
}

/** The replayed page, scaled to fit, and its controls. */
function Stage({ recording, atMs }: { recording: Recording; atMs?: number }) {
  const frameRef = useRef<HTMLDivElement>(null);
  const hostRef = useRef<HTMLDivElement>(null);
  const [replayer, setReplayer] = useState<Replayer | null>(null);
  const [failed, setFailed] = useState<unknown>(null);
  const [viewport, setViewport] = useState(() => viewportOf(recording));
  const [fit, setFit] = useState(1);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<number>(1);
  const [skipIdle, setSkipIdle] = useState(true);
  const start = atMs === undefined ? 0 : clamp(atMs - recording.startMs - LEAD_IN_MS, 0, recording.durationMs);
  const [time, setTime] = useState(start);
  const speedId = useId();
  const skipId = useId();

  // The replayer is loaded only when a replay is opened, so the app's main bundle doesn't carry it.
  useEffect(() => {
    let cancelled = false;
    let r: Replayer | null = null;
    Promise.all([import("rrweb"), import("rrweb/dist/style.css")])
      .then(([{ Replayer }]) => {
        const host = hostRef.current;
        if (cancelled || !host) return;
        r = new Replayer(recording.events as ConstructorParameters<typeof Replayer>[0], {
          root: host,
          skipInactive: true,
          showWarning: false,
          mouseTail: false,
          triggerFocus: false,
        });
        r.on("resize", (d) => {
          const { width, height } = d as { width: number; height: number };
          if (width > 0 && height > 0) setViewport({ width, height });
        });
        r.on("finish", () => setPlaying(false));
        r.pause(start);
        setReplayer(r);
      })
      .catch((err: unknown) => !cancelled && setFailed(err));
    return () => {
      cancelled = true;
      r?.destroy();
    };
  }, [recording, start]);

  // The recorded viewport, scaled down to the width there is.
  useEffect(() => {
    const frame = frameRef.current;
    if (!frame) return;
    const observer = new ResizeObserver(([entry]) => setFit(Math.min(1, entry.contentRect.width / viewport.width)));
    observer.observe(frame);
    return () => observer.disconnect();
  }, [viewport.width]);

  // The position follows the replayer's clock while it plays.
  useEffect(() => {
    if (!replayer || !playing) return;
    let frame = requestAnimationFrame(function tick() {
      setTime(Math.min(replayer.getCurrentTime(), recording.durationMs));
      frame = requestAnimationFrame(tick);
    });
    return () => cancelAnimationFrame(frame);
  }, [replayer, playing, recording.durationMs]);

  if (failed) return <ErrorState error={failed} title="Couldn't start the player" />;

  const toggle = () => {
    if (!replayer) return;
    if (playing) {
      replayer.pause();
      setTime(replayer.getCurrentTime());
    } else {
      replayer.play(time >= recording.durationMs ? 0 : time);
    }
    setPlaying(!playing);
  };
  const seek = (to: number) => {
    setTime(to);
    if (playing) replayer?.play(to);
    else replayer?.pause(to);
  };
  const pct = (ms: number) => `${(recording.durationMs ? ms / recording.durationMs : 0) * 100}%`;
  const errorAt = atMs === undefined ? null : clamp(atMs - recording.startMs, 0, recording.durationMs);

  return (
    <div className="grid gap-2">
      {/* The page keeps its recorded size and is scaled: absolute, so it never widens the layout it sits in. */}
      <div ref={frameRef} className="relative min-w-0 overflow-hidden rounded-md border border-border bg-muted" style={{ height: viewport.height * fit }}>
        <div
          ref={hostRef}
          className="absolute top-0 left-0 origin-top-left"
          style={{ width: viewport.width, height: viewport.height, transform: `scale(${fit})` }}
          aria-label={`The recorded page, ${viewport.width}×${viewport.height}`}
          role="img"
        />
        {!replayer && <Loading label="Starting the player" />}
      </div>
      <div className="flex flex-wrap items-center gap-3">
        <Button size="icon" variant="primary" onClick={toggle} disabled={!replayer} aria-label={playing ? "Pause" : "Play"}>
          {playing ? <Pause /> : <Play />}
        </Button>
        <span className="font-mono text-xs tabular-nums" aria-live="off">
          {clock(time)} / {clock(recording.durationMs)}
        </span>
        <div className="relative flex min-w-40 flex-1 items-center">
          {recording.gaps.map((g) => (
            <span
              key={g.from}
              aria-hidden
              title="Missing part"
              className="pointer-events-none absolute top-1/2 z-10 h-1.5 -translate-y-1/2 rounded-sm bg-warning/70"
              style={{ left: pct(g.from), width: pct(g.to - g.from) }}
            />
          ))}
          {errorAt !== null && (
            <span
              aria-hidden
              title="The error"
              className="pointer-events-none absolute top-1/2 z-10 h-3 w-0.5 -translate-y-1/2 bg-destructive"
              style={{ left: pct(errorAt) }}
            />
          )}
          <input
            type="range"
            min={0}
            max={recording.durationMs}
            step={100}
            value={time}
            onChange={(e) => seek(Number(e.target.value))}
            disabled={!replayer}
            aria-label="Position"
            aria-valuetext={`${clock(time)} of ${clock(recording.durationMs)}`}
            className="w-full accent-primary"
          />
        </div>
        <label htmlFor={speedId} className="flex items-center gap-1 text-xs">
          Speed
          <select
            id={speedId}
            value={speed}
            onChange={(e) => {
              const s = Number(e.target.value);
              setSpeed(s);
              replayer?.setConfig({ speed: s });
            }}
            className="h-7 rounded-md border border-input bg-background px-1"
          >
            {SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <label htmlFor={skipId} className="flex items-center gap-1 text-xs">
          <input
            id={skipId}
            type="checkbox"
            checked={skipIdle}
            onChange={(e) => {
              setSkipIdle(e.target.checked);
              replayer?.setConfig({ skipInactive: e.target.checked });
            }}
            className="size-4 accent-primary"
          />
          Skip idle time
        </label>
      </div>
    </div>
  );
}

/** The recorded window's size, from the meta event the recording starts with. */
function viewportOf(recording: Recording) {
  const meta = recording.events[0];
  const data = (meta?.type === META ? meta.data : null) as { width?: unknown; height?: unknown } | null;
  const width = Number(data?.width);
  const height = Number(data?.height);
  return width > 0 && height > 0 ? { width, height } : { width: 1024, height: 768 };
}

function clamp(n: number, lo: number, hi: number) {
  return Math.min(hi, Math.max(lo, n));
}

/** "1:05", "1:02:09": a position on the timeline. */
function clock(ms: number) {
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${Math.floor(s / 60)}:${two(s % 60)}`;
}
