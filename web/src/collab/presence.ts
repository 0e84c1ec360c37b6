import { useSyncExternalStore } from "react";
import type { ProjectSocket } from "@/lib/socket";
import type { Peer, WireSelection } from "./protocol";

// Who else is in the project, which file each has open and where their
// selection is; what this tab tells them about itself; and whom this tab
// follows. The server sends the whole list on every change; this tab's own
// entry (presence.self) is left out.

export interface PresenceSnapshot {
  /** Everyone else here, this person's other tabs included. */
  peers: readonly Peer[];
  /** The peer this tab follows, while they are here. */
  following: Peer | null;
}

/** At most this often (ms) does a moving selection reach the others (about 20 a second). */
const SEND_EVERY_MS = 50;

export class PresenceStore {
  private all: Peer[] = [];
  private selfId: string | null = null;
  private followingId: string | null = null;
  private snapshot: PresenceSnapshot = { peers: [], following: null };
  private listeners = new Set<() => void>();
  private local: { file: string | null; selection: WireSelection | null } = { file: null, selection: null };
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastSent = 0;

  /** left is told when the person followed leaves the project. */
  constructor(
    private socket: ProjectSocket,
    private left: (peer: Peer) => void,
  ) {}

  /** Listens to the socket; returns what undoes it (for an effect). */
  attach(): () => void {
    const s = this.socket;
    const off = [
      s.on("presence.self", (m) => {
        this.selfId = m.id;
        this.emit();
      }),
      s.on("presence", (m) => {
        this.all = m.peers ?? [];
        this.emit();
      }),
      s.onOpen(() => {
        this.lastSent = 0;
        this.send();
      }),
      // The list is stale until the server sends it again; following resumes if they are still here.
      s.onDrop(() => {
        this.all = [];
        this.selfId = null;
        this.emit();
      }),
    ];
    return () => {
      for (const f of off) f();
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
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
    const peers = this.all.filter((p) => p.id !== this.selfId);
    let following = this.followingId ? (peers.find((p) => p.id === this.followingId) ?? null) : null;
    // Only a list received while connected can say that someone left.
    if (this.followingId && !following && this.selfId !== null) {
      const gone = this.snapshot.following;
      this.followingId = null;
      following = null;
      if (gone) this.left(gone);
    }
    this.snapshot = { peers, following };
    for (const l of this.listeners) l();
  }

  // --- Following ---

  follow(id: string) {
    this.followingId = id;
    this.emit();
  }

  unfollow() {
    if (this.followingId === null) return;
    this.followingId = null;
    this.emit();
  }

  // --- This tab ---

  /** Where this tab is now: the file it shows (null: none) and its selection there. */
  setLocal(file: string | null, selection: WireSelection | null) {
    const sel = selection && { anchor: selection.anchor, head: selection.head };
    const prev = this.local;
    if (prev.file === file && prev.selection?.anchor === sel?.anchor && prev.selection?.head === sel?.head) return;
    this.local = { file, selection: sel };
    if (this.timer) return;
    const wait = Math.max(0, this.lastSent + SEND_EVERY_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.send();
    }, wait);
  }

  private send() {
    if (this.socket.send({ type: "presence.update", ...this.local })) this.lastSent = Date.now();
  }
}

export function usePresence<T>(store: PresenceStore, select: (s: PresenceSnapshot) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.getSnapshot()));
}
