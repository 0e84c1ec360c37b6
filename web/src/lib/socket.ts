import { useSyncExternalStore } from "react";
import { collabServerTypes, type CollabClientMessage, type CollabServerMessage } from "@/collab/protocol";
import type { AgentEvent, AgentRun, Run } from "./api";

// The workspace's one WebSocket per browser tab (GET /api/projects/{id}/ws).
// Console, run status, the agent's stream and the project's shells share it,
// told apart by message type.
// It reconnects by itself with a growing delay; whoever needs state on the
// server again after a reconnect (the console subscription, the shells a tab
// watches) re-sends it from onOpen. open() and
// close() pair up in an effect (so StrictMode's second mount reconnects).
// When the browser says it went offline the connection counts as lost at
// once (Chrome keeps a dead socket open for minutes), and it is tried again
// when the browser is back online rather than on a timer.

export type ClientMessage =
  | { type: "console.subscribe" }
  | { type: "agent.subscribe" }
  | { type: "shells.subscribe" }
  | { type: "shell.open"; id: string; rows: number; cols: number }
  | { type: "shell.attach"; id: string }
  | { type: "shell.detach"; id: string }
  | { type: "shell.focus"; id: string }
  | { type: "shell.input"; id: string; data: string }
  | { type: "shell.resize"; id: string; rows: number; cols: number }
  | { type: "shell.close"; id: string }
  | CollabClientMessage;

/** A live shell of the project, as every tab lists it. */
export interface ShellInfo {
  id: string;
  title: string;
  opener: { id: string; username: string };
  rows: number;
  cols: number;
  createdAt: number;
}

// The server leaves out "data" when there are no bytes, "run" when there is none, and empty lists.
export type ServerMessage =
  | { type: "console.reset"; run?: Run | null; data?: string }
  | { type: "console.output"; runId: string; data?: string }
  | { type: "run.status"; run: Run }
  | { type: "agent.snapshot"; agent: { run: AgentRun | null } }
  | { type: "agent.event"; agent: AgentEvent }
  | { type: "shells"; shells?: ShellInfo[]; active?: Record<string, string> }
  | { type: "shell.opened"; id: string; rows: number; cols: number }
  | { type: "shell.attached"; id: string; data?: string; rows: number; cols: number }
  | { type: "shell.output"; id: string; data?: string }
  | { type: "shell.exit"; id: string; code: number }
  | { type: "error"; id?: string; code: string; message: string }
  | CollabServerMessage;

export type ServerMessageType = ServerMessage["type"];
type MessageOf<T extends ServerMessageType> = Extract<ServerMessage, { type: T }>;

const serverTypes: ReadonlySet<string> = new Set<ServerMessageType>([
  "console.reset",
  "console.output",
  "run.status",
  "agent.snapshot",
  "agent.event",
  "shells",
  "shell.opened",
  "shell.attached",
  "shell.output",
  "shell.exit",
  "error",
  ...collabServerTypes,
]);

/** connecting: the first try; open: live; reconnecting: lost, trying again after a delay; closed: given up for good. */
export type SocketState = "connecting" | "open" | "reconnecting" | "closed";

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;

export class ProjectSocket {
  private ws: WebSocket | null = null;
  private state: SocketState = "connecting";
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private disposed = true;
  private stateListeners = new Set<() => void>();
  private openListeners = new Set<() => void>();
  private dropListeners = new Set<() => void>();
  private handlers = new Map<ServerMessageType, Set<(msg: ServerMessage) => void>>();

  constructor(private url: string) {}

  /** Connects, and keeps reconnecting until close(). */
  open() {
    this.disposed = false;
    window.addEventListener("online", this.reconnect);
    window.addEventListener("offline", this.wentOffline);
    this.setState("connecting");
    this.connect();
  }

  // --- React glue (useSyncExternalStore) ---

  subscribe = (listener: () => void) => {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  };

  getState = (): SocketState => this.state;

  // --- Channels ---

  /** Calls handler for every message of one type; returns the unsubscribe. */
  on<T extends ServerMessageType>(type: T, handler: (msg: MessageOf<T>) => void): () => void {
    const set = this.handlers.get(type) ?? new Set();
    this.handlers.set(type, set);
    // The map is keyed by type, so only messages of type T reach this handler.
    const h = handler as (msg: ServerMessage) => void;
    set.add(h);
    return () => set.delete(h);
  }

  /** Calls fn on every (re)connection, and now when already connected. */
  onOpen(fn: () => void): () => void {
    this.openListeners.add(fn);
    if (this.state === "open") fn();
    return () => this.openListeners.delete(fn);
  }

  /** Calls fn whenever an open connection is lost. */
  onDrop(fn: () => void): () => void {
    this.dropListeners.add(fn);
    return () => this.dropListeners.delete(fn);
  }

  /** Sends when connected; false when not (the message is dropped, not queued). */
  send(msg: ClientMessage): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Tries again now instead of waiting out the delay. */
  reconnect = () => {
    if (this.disposed || this.state === "open" || this.ws?.readyState === WebSocket.CONNECTING) return;
    this.attempts = 0;
    this.connect();
  };

  close() {
    this.disposed = true;
    window.removeEventListener("online", this.reconnect);
    window.removeEventListener("offline", this.wentOffline);
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close(1000);
    this.ws = null;
    this.setState("closed");
  }

  // --- Internals ---

  private connect() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempts = 0;
      this.setState("open");
      for (const fn of this.openListeners) fn();
    };
    ws.onmessage = (e: MessageEvent<unknown>) => {
      const msg = typeof e.data === "string" ? parse(e.data) : null;
      if (msg) for (const h of this.handlers.get(msg.type) ?? []) h(msg);
    };
    ws.onclose = () => this.lost(ws);
  }

  private lost(ws: WebSocket) {
    if (this.ws !== ws) return;
    const wasOpen = this.state === "open";
    this.ws = null;
    if (this.disposed) return;
    if (wasOpen) for (const fn of this.dropListeners) fn();
    this.setState("reconnecting");
    if (!navigator.onLine) return; // the "online" event reconnects
    const delay = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** this.attempts) * (0.8 + Math.random() * 0.4);
    this.attempts++;
    this.timer = setTimeout(() => this.connect(), delay);
  }

  private wentOffline = () => {
    const ws = this.ws;
    if (!ws) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lost(ws);
    ws.onopen = ws.onclose = ws.onmessage = null;
    ws.close();
  };

  private setState(state: SocketState) {
    if (this.state === state) return;
    this.state = state;
    for (const l of this.stateListeners) l();
  }
}

function parse(text: string): ServerMessage | null {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== "object" || v === null || !("type" in v) || typeof v.type !== "string") return null;
    // The server is ours: a known type is trusted to carry that type's fields.
    return serverTypes.has(v.type) ? (v as ServerMessage) : null;
  } catch {
    return null;
  }
}

export function useSocketState(socket: ProjectSocket): SocketState {
  return useSyncExternalStore(socket.subscribe, socket.getState);
}

/** Base64 (as the socket carries bytes) to bytes. */
export function fromBase64(data: string | undefined): Uint8Array {
  const bin = atob(data ?? "");
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Bytes to base64; a string is sent as UTF-8. */
export function toBase64(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}
