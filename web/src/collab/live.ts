import { collab, getSyncedVersion, receiveUpdates, sendableUpdates, type Update } from "@codemirror/collab";
import type { EditorState, Extension } from "@codemirror/state";
import { toast } from "sonner";
import type { DocumentStore, LiveLink, SaveState } from "@/editor/documents";
import { basename, isWithin, rebase } from "@/lib/paths";
import type { ProjectSocket, ServerMessage } from "@/lib/socket";
import { remoteCursors } from "./cursors";
import { fromWire, toWire, type DocOpened, type Epoch, type WireUpdate } from "./protocol";

// The workspace's open documents, kept live with the server (internal/collab)
// over the project socket, the way @codemirror/collab expects: local edits
// are pushed at the version this tab has synced to, at most one push in
// flight per document; the server rebases a push made before updates this
// tab has not seen yet over them, and sends every accepted update to
// everyone, the author included (that is the author's confirmation, sent
// once the text is on disk). Received updates go through receiveUpdates one
// at a time: the server maps a rebased push over each update in turn, and
// this tab's unconfirmed edits must be mapped the same way to come out the
// same. Only a push older than the updates the server keeps is rejected:
// the document is opened again.
//
// After a reconnect every document is opened again with the version and
// epoch this tab has: the server answers with the updates since (and the
// unconfirmed local edits, which collab keeps, are pushed on top), or, when
// it can't catch up, with the whole text (local edits that can't be kept
// are offered to copy).

/** A push waits this long for its answer before it is sent again. */
const PUSH_TIMEOUT_MS = 5000;
/** Save (Ctrl-S, closing a tab) waits this long for the server's confirmation (through a reconnect). */
const FLUSH_TIMEOUT_MS = 10_000;
/** A push stays well under the socket's 1 MiB message limit, and within the server's 1000 updates. */
const MAX_PUSH_CHARS = 256 * 1024;
const MAX_PUSH_UPDATES = 1000;
const MAX_UPDATE_CHARS = 900 * 1024;
/** How long a rename or delete this tab made itself is expected back from the server. */
const OWN_OPERATION_MS = 5000;

interface Session {
  path: string;
  clientID: string;
  /** The document's life on the server, once it has opened; null: ask for the whole text. */
  epoch: Epoch | null;
  /** doc.opened has arrived on this connection. */
  opened: boolean;
  readOnly: boolean;
  /** A push waiting for its answer (the timer that gives up waiting). */
  inFlight: ReturnType<typeof setTimeout> | null;
  /** Why the document is being started over, told when the text arrives (local edits lost). */
  restart: string | null;
  /** Saves waiting for every edit to be confirmed. */
  waiters: ((ok: boolean) => void)[];
}

const newClientID = () => Math.random().toString(36).slice(2, 10) + Date.now().toString(36).slice(-4);

export class LiveDocuments implements LiveLink {
  private sessions = new Map<string, Session>();
  private connected = false;
  /** The connection dropped and not every document has caught up since. */
  private recovering = false;
  /** Paths this tab is moving or deleting itself: the server's word of it needs no toast. */
  private own = new Set<string>();

  constructor(
    private socket: ProjectSocket,
    private store: DocumentStore,
  ) {}

  /** Links the store and listens to the socket; returns what undoes it (for an effect). */
  attach(): () => void {
    this.store.goLive(this);
    const s = this.socket;
    const off = [
      s.onOpen(() => this.connectedNow()),
      s.onDrop(() => this.dropped()),
      s.on("doc.opened", (m) => this.opened(m)),
      s.on("doc.update", (m) => this.received(m.path, m.version, m.updates ?? [])),
      s.on("doc.rejected", (m) => this.rejected(m.path)),
      s.on("doc.renamed", (m) => this.renamed(m.path, m.to)),
      s.on("doc.deleted", (m) => this.deleted(m.path)),
      s.on("error", (m) => this.failed(m)),
    ];
    return () => {
      for (const f of off) f();
      this.store.goLive(null);
    };
  }

  // --- LiveLink: what the store tells us ---

  open(path: string) {
    let s = this.sessions.get(path);
    if (!s) {
      s = {
        path,
        clientID: newClientID(),
        epoch: null,
        opened: false,
        readOnly: false,
        inFlight: null,
        restart: null,
        waiters: [],
      };
      this.sessions.set(path, s);
    }
    this.sendOpen(s);
  }

  close(path: string) {
    const s = this.sessions.get(path);
    if (!s) return;
    this.settle(s);
    this.resolveWaiters(s, false);
    this.sessions.delete(path);
    if (this.connected) this.socket.send({ type: "doc.close", path });
  }

  changed(path: string) {
    const s = this.sessions.get(path);
    if (!s) return;
    this.push(s);
    this.report(s);
  }

  moved(from: string, to: string) {
    for (const [path, s] of [...this.sessions]) {
      const next = rebase(path, from, to);
      if (next === null || next === path) continue;
      this.sessions.delete(path);
      s.path = next;
      this.sessions.set(next, s);
    }
  }

  expect(path: string) {
    this.own.add(path);
    setTimeout(() => this.own.delete(path), OWN_OPERATION_MS);
  }

  flush(path: string): Promise<boolean> {
    const s = this.sessions.get(path);
    const state = this.store.editorState(path);
    if (!s || !state) return Promise.resolve(false);
    this.push(s);
    if (sendableUpdates(state).length === 0) return Promise.resolve(true);
    // Offline, nothing will reach the server soon; merely reconnecting, the edits go out once it's back.
    if (!this.connected && !navigator.onLine) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), FLUSH_TIMEOUT_MS);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      s.waiters.push(done);
    });
  }

  // --- The connection ---

  private connectedNow() {
    this.connected = true;
    for (const s of this.sessions.values()) this.sendOpen(s);
    this.caughtUp();
  }

  private dropped() {
    this.connected = false;
    this.recovering = true;
    for (const s of this.sessions.values()) {
      s.opened = false;
      this.settle(s);
      this.report(s);
      if (!navigator.onLine) this.resolveWaiters(s, false);
    }
  }

  /** Says "Reconnected" once every open document is back in step after a drop. */
  private caughtUp() {
    if (!this.recovering || !this.connected) return;
    if ([...this.sessions.values()].some((s) => !s.opened && this.store.editorState(s.path))) return;
    this.recovering = false;
    const sending = [...this.sessions.keys()].some((path) => {
      const state = this.live(path);
      return state !== null && sendableUpdates(state).length > 0;
    });
    toast.success("Reconnected", {
      id: "reconnected",
      description: sending ? "The edits you made meanwhile are on their way to the others." : "You're live again.",
    });
  }

  // --- Messages from the server ---

  private sendOpen(s: Session) {
    s.opened = false;
    this.settle(s);
    if (!this.connected) return;
    const state = this.live(s.path);
    const since = state && s.epoch !== null ? { version: getSyncedVersion(state), epoch: s.epoch } : {};
    this.socket.send({ type: "doc.open", path: s.path, ...since });
  }

  private opened(m: DocOpened) {
    const s = this.sessions.get(m.path);
    if (!s) return;
    const state = this.live(m.path);
    s.readOnly = m.readOnly;
    if (m.text !== undefined) {
      const lost = state ? sendableUpdates(state).length > 0 : false;
      if (state && lost) this.tellLost(m.path, state.doc.toString(), s.restart);
      s.restart = null;
      // A new life for this document on our side too: nothing of ours from before can be confused with it.
      if (state) s.clientID = newClientID();
      s.epoch = m.epoch;
      s.opened = true;
      this.store.liveOpened(m.path, m.text, this.extensions(m.version, s.clientID), m.readOnly);
    } else if (state) {
      s.epoch = m.epoch;
      s.opened = true;
      this.store.setReadOnly(m.path, m.readOnly);
      if (!this.apply(s, state, m.version, m.updates ?? [])) return;
    } else {
      // Updates for a document we hold no text of: ask for the text instead.
      s.epoch = null;
      this.sendOpen(s);
      return;
    }
    this.push(s);
    this.report(s);
    this.caughtUp();
  }

  private received(path: string, version: number, updates: WireUpdate[]) {
    const s = this.sessions.get(path);
    const state = this.live(path);
    if (!s?.opened || !state) return;
    if (!this.apply(s, state, version, updates)) return;
    this.push(s);
    this.report(s);
  }

  /**
   * Applies the updates that start at version and that this tab hasn't seen;
   * false when it couldn't (and has asked the server to catch it up).
   */
  private apply(s: Session, state: EditorState, version: number, updates: WireUpdate[]): boolean {
    const synced = getSyncedVersion(state);
    if (version > synced) {
      // Some updates never reached us: ask for them.
      this.sendOpen(s);
      return false;
    }
    const fresh = updates.slice(synced - version);
    if (fresh.length === 0) return true;
    let parsed: Update[];
    try {
      parsed = fromWire(fresh);
      // One receiveUpdates per update, as the server rebases (see the top of this file); one view update for all.
      this.store.transact(s.path, (st) =>
        parsed.map((u) => {
          const tr = receiveUpdates(st, [u]);
          st = tr.state;
          return tr;
        }),
      );
    } catch (err) {
      // Out of step with the server (a change that doesn't fit our text): start over from its text.
      console.error(`collab: couldn't apply updates to ${s.path}`, err);
      this.startOver(s, "Your copy fell out of step with the server's.");
      return false;
    }
    if (fresh.some((u) => u.clientID === s.clientID)) this.settle(s);
    return true;
  }

  /** The push was made before the updates the server still keeps: catch up by opening the document again. */
  private rejected(path: string) {
    const s = this.sessions.get(path);
    if (!s?.opened) return;
    this.sendOpen(s);
  }

  /** A file or folder moved (sent to everyone in the project, once per move). */
  private renamed(from: string, to: string) {
    const open = [...this.sessions.keys()].filter((p) => isWithin(p, from));
    if (open.length === 0) return; // already moved here (our own move), or nothing of it open
    this.store.moved(from, to);
    if (this.own.has(from)) return;
    toast.info(`${basename(from)} was moved to ${to}`, {
      description: open.length === 1 ? "Its tab follows the file." : `${open.length} open tabs follow it.`,
    });
  }

  private deleted(path: string) {
    if (!this.sessions.has(path)) return;
    if (this.own.has(path)) {
      this.store.close(path);
      return;
    }
    const state = this.live(path);
    const unsent = state && sendableUpdates(state).length > 0 ? state.doc.toString() : null;
    this.store.close(path);
    toast.warning(`${path} was deleted`, {
      description: unsent === null ? "Its tab was closed." : "Its tab was closed. Your last edits never reached the server.",
      action: unsent === null ? undefined : { label: "Copy my text", onClick: () => copyText(unsent) },
    });
  }

  private failed(m: Extract<ServerMessage, { type: "error" }>) {
    const s = m.id ? this.sessions.get(m.id) : undefined;
    if (!s) return;
    if (m.code === "save_failed") {
      // The edit is accepted and shared, only the file on disk lags: say so, once per file.
      toast.error(`Couldn't write ${basename(s.path)} to disk`, { id: `save-failed:${s.path}`, description: m.message });
      return;
    }
    // Shell errors carry their own ids; only a document waiting on an answer takes an error as its own.
    if (s.opened && !s.inFlight) return;
    if (!s.opened) {
      const alone = m.code === "file_too_large";
      if (alone) {
        this.sessions.delete(s.path);
        toast.info(`${basename(s.path)} is edited without live sharing`, { description: m.message });
      }
      this.store.liveFailed(s.path, m.message, alone);
      return;
    }
    this.settle(s);
    if (m.code === "forbidden") {
      s.readOnly = true;
      this.store.setReadOnly(s.path, true);
      this.startOver(s, "You can view this project but no longer edit it.");
    } else if (m.code === "not_open") {
      this.sendOpen(s); // the server let go of it (a move raced us, say): open it again, keeping our edits
    } else {
      this.startOver(s, m.message);
    }
  }

  // --- Pushing ---

  private push(s: Session) {
    if (!this.connected || !s.opened || s.inFlight || s.readOnly) return;
    const state = this.live(s.path);
    if (!state) return;
    const pending = sendableUpdates(state);
    if (pending.length === 0) return;
    const updates = toWire(pending);
    const sizes = updates.map((u) => JSON.stringify(u.changes).length);
    if (sizes[0] > MAX_UPDATE_CHARS) {
      this.store.setLiveSave(s.path, "error", "This change is too large to share (over 1 MB). Undo it and paste it in smaller pieces.");
      return;
    }
    let n = 0;
    for (let total = 0; n < Math.min(updates.length, MAX_PUSH_UPDATES) && (n === 0 || total + sizes[n] <= MAX_PUSH_CHARS); n++) {
      total += sizes[n];
    }
    const version = getSyncedVersion(state);
    if (!this.socket.send({ type: "doc.push", path: s.path, version, updates: updates.slice(0, n) })) return;
    s.inFlight = setTimeout(() => {
      s.inFlight = null;
      this.push(s);
    }, PUSH_TIMEOUT_MS);
  }

  /** No push of s is waiting for an answer any more. */
  private settle(s: Session) {
    if (s.inFlight) clearTimeout(s.inFlight);
    s.inFlight = null;
  }

  /** Asks for the whole text again; unconfirmed local edits are lost (and offered to copy) when it arrives. */
  private startOver(s: Session, why: string) {
    s.epoch = null;
    s.restart = why;
    this.sendOpen(s);
  }

  /** Tells the store how path's edits stand: all confirmed, some on their way, or kept while offline. */
  private report(s: Session) {
    const state = this.live(s.path);
    if (!state) return;
    const pending = sendableUpdates(state).length;
    const save: SaveState = pending === 0 ? "saved" : this.connected ? "saving" : "offline";
    if (save === "saving" && this.store.getSnapshot().tabs.find((t) => t.path === s.path)?.saveState === "error") return;
    this.store.setLiveSave(s.path, save);
    if (pending === 0) this.resolveWaiters(s, true);
  }

  private resolveWaiters(s: Session, ok: boolean) {
    const waiters = s.waiters;
    s.waiters = [];
    for (const w of waiters) w(ok);
  }

  /** path's state when it is a live document (it carries the collab extension). */
  private live(path: string): EditorState | null {
    const info = this.store.getSnapshot().tabs.find((t) => t.path === path);
    return info?.live ? this.store.editorState(path) : null;
  }

  private extensions(version: number, clientID: string): Extension {
    return [collab({ startVersion: version, clientID }), remoteCursors()];
  }

  private tellLost(path: string, text: string, why: string | null) {
    toast.warning(`Your latest edits to ${basename(path)} couldn't be kept`, {
      description: `${why ?? "The server started the file over while you were away."} The editor now shows the server's copy; copy yours to merge it by hand.`,
      duration: Infinity,
      action: { label: "Copy my version", onClick: () => copyText(text) },
    });
  }
}

function copyText(text: string) {
  navigator.clipboard.writeText(text).then(
    () => toast.success("Copied your version"),
    () => toast.error("Couldn't copy automatically"),
  );
}
