import { useSyncExternalStore } from "react";
import type { ProjectSocket, ShellInfo } from "@/lib/socket";

// The project's shells as this browser tab knows them. Shells belong to the
// project: the server lists the live ones to every tab (a "shells" message on
// each change), with the shell each person looks at. This tab shows them all
// as tabs, and keeps showing one it has on screen after it ends, until it is
// closed here.

export interface ShellTab {
  id: string;
  /** Empty until the server has listed a shell this tab is still opening. */
  title: string;
  opener: ShellInfo["opener"] | null;
  rows: number;
  cols: number;
  live: boolean;
  /** It has a terminal in this tab (it was on screen here), which it keeps after it ends. */
  shown: boolean;
}

export interface ShellsSnapshot {
  /** Whether the list has come since the connection last opened. */
  loaded: boolean;
  tabs: readonly ShellTab[];
  /** The shell each person looks at, by user id: what following them shows. */
  active: Readonly<Record<string, string>>;
}

/** A shell id: the client's to choose, unique in the project. */
function newShellId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class ShellStore {
  private live: ShellInfo[] = [];
  private active: Record<string, string> = {};
  private loaded = false;
  /** Ids in the order this tab first met them, so tabs keep their places. */
  private order: string[] = [];
  private last = new Map<string, ShellInfo>();
  /** Shells with a terminal in this tab: they stay until dismissed. */
  private shown = new Set<string>();
  /** Shells this tab asked to open, not yet asked for. */
  private toOpen = new Set<string>();
  private snapshot: ShellsSnapshot = { loaded: false, tabs: [], active: {} };
  private listeners = new Set<() => void>();

  constructor(private socket: ProjectSocket) {}

  /** Listens to the socket; returns what undoes it (for an effect). */
  attach(): () => void {
    const s = this.socket;
    const off = [
      s.on("shells", (m) => {
        this.live = m.shells ?? [];
        this.active = m.active ?? {};
        this.loaded = true;
        for (const sh of this.live) {
          this.last.set(sh.id, sh);
          if (!this.order.includes(sh.id)) this.order.push(sh.id);
        }
        this.emit();
      }),
      s.onOpen(() => s.send({ type: "shells.subscribe" })),
      s.onDrop(() => {
        this.loaded = false;
        this.emit();
      }),
    ];
    return () => {
      for (const f of off) f();
    };
  }

  // --- React glue (useSyncExternalStore) ---

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  getSnapshot = () => this.snapshot;

  private emit() {
    const liveIds = new Set(this.live.map((s) => s.id));
    this.order = this.order.filter((id) => liveIds.has(id) || this.shown.has(id));
    const tabs = this.order.map((id): ShellTab => {
      const info = this.last.get(id);
      return {
        id,
        title: info?.title ?? "",
        opener: info?.opener ?? null,
        rows: info?.rows ?? 0,
        cols: info?.cols ?? 0,
        live: liveIds.has(id),
        shown: this.shown.has(id),
      };
    });
    for (const id of this.last.keys()) if (!this.order.includes(id)) this.last.delete(id);
    this.snapshot = { loaded: this.loaded, tabs, active: this.active };
    for (const l of this.listeners) l();
  }

  // --- This tab ---

  /** A new shell's id; its terminal opens it on the server (see takeOpen). */
  create(): string {
    const id = newShellId();
    this.toOpen.add(id);
    this.shown.add(id);
    this.order.push(id);
    this.emit();
    return id;
  }

  /** True once for a shell this tab created: its terminal opens it rather than joining it. */
  takeOpen(id: string): boolean {
    return this.toOpen.delete(id);
  }

  /** The shell has a terminal here now: its tab stays after it ends. */
  show(id: string) {
    if (this.shown.has(id)) return;
    this.shown.add(id);
    this.emit();
  }

  /** Takes the tab away (an ended shell, or one closed here). */
  dismiss(id: string) {
    this.shown.delete(id);
    this.toOpen.delete(id);
    this.emit();
  }
}

export function useShells(store: ShellStore): ShellsSnapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot);
}
