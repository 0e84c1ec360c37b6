import { useQuery } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";
import { api, ApiError, errorMessage, type Run, type RunStatus } from "@/lib/api";
import { fromBase64, type ProjectSocket } from "@/lib/socket";

// The project's current (or last) run as this tab knows it: its status, the
// output kept so far, and the Run/Stop requests in flight. The socket is the
// source of truth (console.reset, console.output, run.status); REST answers
// fill in when the socket is down. Output lives outside React so that a chatty
// program never re-renders the workspace: the console terminal reads it
// through onOutput.

export interface RunSnapshot {
  run: Run | null;
  /** A Run or Stop request on its way. */
  pending: "start" | "stop" | null;
  /** Why the last Run or Stop request failed. */
  error: RunRequestError | null;
  /** Bumped when something needs the person's eye by the Run button: a crash seen live, or a failed request. */
  notice: number;
}

export interface RunRequestError {
  action: "start" | "stop";
  /** The server's stable code, e.g. sandbox_unavailable. */
  code: string;
  /** The server's words, which say what to do. */
  message: string;
}

export type OutputEvent = { kind: "reset" } | { kind: "data"; bytes: Uint8Array };

const ACTIVE: ReadonlySet<RunStatus> = new Set(["starting", "building", "running"]);
// A run goes from building to running and back as its go command compiles: the same rank.
const rank = (s: RunStatus) => (s === "starting" ? 0 : s === "building" || s === "running" ? 1 : 2);

export const isActive = (run: Run | null): boolean => run !== null && ACTIVE.has(run.status);
/** True when run is the first word of its app listening on a port (its preview appearing). */
export const startedListening = (run: Run, prev: Run | null): boolean =>
  run.previewUrl !== null && !(prev?.id === run.id && prev.previewUrl !== null);
export const hasFailed = (run: Run | null): boolean => run?.status === "crashed" || run?.status === "failed";

/** Past this, the oldest output is dropped (the terminal keeps its own scrollback). */
const MAX_KEPT_BYTES = 2 * 1024 * 1024;
const POLL_MS = 3000;

export class RunStore {
  private snapshot: RunSnapshot = { run: null, pending: null, error: null, notice: 0 };
  private listeners = new Set<() => void>();
  private outputListeners = new Set<(e: OutputEvent) => void>();
  private changeListeners = new Set<(run: Run, prev: Run | null) => void>();
  private chunks: Uint8Array[] = [];
  private kept = 0;

  constructor(
    private projectId: string,
    private socket: ProjectSocket,
  ) {}

  /** Listens to the socket and asks for the current run; returns what undoes it (for an effect). */
  attach(): () => void {
    const socket = this.socket;
    const off = [
      socket.onOpen(() => socket.send({ type: "console.subscribe" })),
      socket.on("console.reset", (m) => {
        this.resetOutput();
        if (m.run) this.apply(m.run, "reset");
        else this.set({ run: null });
        this.append(fromBase64(m.data));
      }),
      socket.on("console.output", (m) => {
        if (m.runId === this.snapshot.run?.id) this.append(fromBase64(m.data));
      }),
      socket.on("run.status", (m) => this.apply(m.run, "socket")),
    ];
    // Without the socket, status still moves: ask now, then every few seconds while a run is live.
    void this.refresh();
    const poll = setInterval(() => {
      if (socket.getState() !== "open" && isActive(this.snapshot.run)) void this.refresh();
    }, POLL_MS);
    return () => {
      for (const u of off) u();
      clearInterval(poll);
    };
  }

  // --- React glue (useSyncExternalStore) ---

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): RunSnapshot => this.snapshot;

  // --- Output ---

  /** Everything kept so far, then every change; returns the unsubscribe. */
  onOutput(fn: (e: OutputEvent) => void): () => void {
    for (const bytes of this.chunks) fn({ kind: "data", bytes });
    this.outputListeners.add(fn);
    return () => this.outputListeners.delete(fn);
  }

  /** The last lines printed, without colours: what a crash notice shows. */
  tail(lines = 12): string[] {
    const bytes: Uint8Array[] = [];
    let size = 0;
    for (let i = this.chunks.length - 1; i >= 0 && size < 16 * 1024; i--) {
      bytes.unshift(this.chunks[i]);
      size += this.chunks[i].length;
    }
    const text = new TextDecoder().decode(concat(bytes));
    const all = stripAnsi(text).replace(/\r\n?/g, "\n").split("\n");
    while (all.length > 0 && all[all.length - 1].trim() === "") all.pop();
    return all.slice(-lines);
  }

  /** Calls fn whenever this tab learns something new about the current run (a new run, a status, a port). */
  onChange(fn: (run: Run, prev: Run | null) => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }

  // --- Requests ---

  /** Runs the project; when a run is active the server stops it first, so this is also Restart. */
  start = async () => {
    if (this.snapshot.pending === "start") return;
    this.set({ pending: "start", error: null });
    try {
      this.apply(await api.startRun(this.projectId), "rest");
      this.set({ pending: null });
    } catch (err) {
      this.fail("start", err);
    }
  };

  stop = async () => {
    if (this.snapshot.pending) return;
    this.set({ pending: "stop", error: null });
    try {
      await api.stopRun(this.projectId);
      this.set({ pending: null });
      if (this.socket.getState() !== "open") await this.refresh();
    } catch (err) {
      this.fail("stop", err);
    }
  };

  dismissError = () => this.set({ error: null });

  // --- Internals ---

  private async refresh() {
    try {
      const { runs, current } = await api.runs(this.projectId);
      const known = this.snapshot.run && runs.find((r) => r.id === this.snapshot.run?.id);
      const latest = current ?? known ?? runs[0] ?? null;
      if (latest) this.apply(latest, "rest");
    } catch {
      // The socket or the next poll will tell; the header has nothing useful to add.
    }
  }

  private fail(action: RunRequestError["action"], err: unknown) {
    const error = { action, code: err instanceof ApiError ? err.code : "unknown", message: errorMessage(err) };
    this.set({ pending: null, error, notice: this.snapshot.notice + 1 });
  }

  /**
   * Takes a newer view of a run. A REST answer can be older than what the
   * socket already said about the same run, so for the same run it only moves
   * the status forward; the socket's word replaces it, and console.reset says
   * which run the console shows, whatever this tab thought.
   */
  private apply(run: Run, source: "reset" | "socket" | "rest") {
    const prev = this.snapshot.run;
    const sameRun = prev?.id === run.id;
    if (source !== "reset" && prev && !sameRun && run.startedAt < prev.startedAt) return;
    if (sameRun && source === "rest" && rank(run.status) <= rank(prev.status)) return;
    if (!sameRun && prev) this.resetOutput();

    const endedBadly = hasFailed(run) && (!sameRun || !hasFailed(prev));
    const seenLive = (sameRun && isActive(prev)) || this.snapshot.pending === "start";
    this.set({ run, notice: endedBadly && seenLive ? this.snapshot.notice + 1 : this.snapshot.notice });

    for (const fn of this.changeListeners) fn(run, prev);
  }

  private append(bytes: Uint8Array) {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.kept += bytes.length;
    while (this.kept > MAX_KEPT_BYTES && this.chunks.length > 1) this.kept -= this.chunks.shift()!.length;
    for (const fn of this.outputListeners) fn({ kind: "data", bytes });
  }

  private resetOutput() {
    this.chunks = [];
    this.kept = 0;
    for (const fn of this.outputListeners) fn({ kind: "reset" });
  }

  private set(patch: Partial<RunSnapshot>) {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const l of this.listeners) l();
  }
}

export const runConfigKey = (projectId: string) => ["run-config", projectId] as const;

/** What Run will do (GET run-config); refreshed when a file is saved. */
export function useRunConfig(projectId: string) {
  return useQuery({ queryKey: runConfigKey(projectId), queryFn: () => api.runConfig(projectId), staleTime: 0 });
}

export function useRun<T>(store: RunStore, select: (s: RunSnapshot) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.getSnapshot()));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// CSI and OSC sequences, and the lone escapes xterm would swallow.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}
