import { useSyncExternalStore } from "react";
import type { AgentEvent, AgentRun, AgentStep } from "@/lib/api";
import type { ProjectSocket } from "@/lib/socket";

// The project's latest agent run as the socket streams it. agent.subscribe is
// sent on every (re)connection; the server answers with agent.snapshot (the
// latest run with its steps), then agent.event for every change. Every tab on
// the project sees the same stream, so a run started elsewhere shows up too.

export interface AgentStreamSnapshot {
  /** The latest run, with its steps so far; null when the project has none. */
  run: AgentRun | null;
  /** Whether the server has answered a subscription yet. */
  loaded: boolean;
}

export class AgentStream {
  private snapshot: AgentStreamSnapshot = { run: null, loaded: false };
  private listeners = new Set<() => void>();
  private eventListeners = new Set<(e: AgentEvent, prev: AgentRun | null) => void>();

  constructor(private socket: ProjectSocket) {}

  /** Subscribes now and after every reconnection; returns what undoes it (for an effect). */
  attach(): () => void {
    const socket = this.socket;
    const off = [
      socket.onOpen(() => socket.send({ type: "agent.subscribe" })),
      socket.on("agent.snapshot", (m) => this.set({ run: withSteps(m.agent.run), loaded: true })),
      socket.on("agent.event", (m) => this.apply(m.agent)),
    ];
    return () => {
      for (const u of off) u();
    };
  }

  /** A run this tab just started: shown at once, before the socket tells of it. */
  started(run: AgentRun) {
    this.apply({ kind: "run", run });
  }

  /** Calls fn for every event that changed the latest run (prev: the run before it); returns the unsubscribe. */
  onEvent(fn: (e: AgentEvent, prev: AgentRun | null) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  // --- React glue (useSyncExternalStore) ---

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): AgentStreamSnapshot => this.snapshot;

  private apply(e: AgentEvent) {
    const prev = this.snapshot.run;
    const run = applyEvent(prev, e);
    if (run === prev) return;
    this.set({ run });
    for (const fn of this.eventListeners) fn(e, prev);
  }

  private set(patch: Partial<AgentStreamSnapshot>) {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const l of this.listeners) l();
  }
}

export function useAgentStream<T>(stream: AgentStream, select: (s: AgentStreamSnapshot) => T): T {
  return useSyncExternalStore(stream.subscribe, () => select(stream.getSnapshot()));
}

const withSteps = (run: AgentRun | null): AgentRun | null => (run && !run.steps ? { ...run, steps: [] } : run);

/**
 * The latest run after one event. A header (kind run) keeps the steps already
 * known; a header of an older run than the one shown is ignored, and a newer
 * one replaces it. Steps and text for any other run are ignored. Returns run
 * itself when nothing changed.
 */
export function applyEvent(run: AgentRun | null, e: AgentEvent): AgentRun | null {
  switch (e.kind) {
    case "run":
      if (run?.id === e.run.id) return { ...e.run, steps: e.run.steps ?? run.steps ?? [] };
      if (run && e.run.createdAt < run.createdAt) return run;
      return withSteps(e.run);
    case "step":
      if (run?.id !== e.runId) return run;
      return { ...run, steps: putStep(run.steps ?? [], e.step) };
    case "text": {
      if (run?.id !== e.runId || !e.delta) return run;
      const steps = run.steps ?? [];
      const at = steps.find((s) => s.n === e.n);
      const step: AgentStep = at
        ? { ...at, text: (at.text ?? "") + e.delta }
        : { n: e.n, kind: "text", text: e.delta, startedAt: Date.now() };
      return { ...run, steps: putStep(steps, step) };
    }
  }
}

/** steps with step in its place by n: replacing the one with the same n, or inserted in order. */
function putStep(steps: AgentStep[], step: AgentStep): AgentStep[] {
  const i = steps.findIndex((s) => s.n >= step.n);
  if (i < 0) return [...steps, step];
  return [...steps.slice(0, i), step, ...steps.slice(steps[i].n === step.n ? i + 1 : i)];
}
