import { indentWithTab } from "@codemirror/commands";
import { Compartment, EditorSelection, EditorState, type Extension, type Text, Transaction } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { useSyncExternalStore } from "react";
import { ApiError, errorMessage } from "@/lib/api";
import { isWithin, rebase } from "@/lib/paths";

// The open files of one workspace: their tabs, loaded contents, live editor
// states, unsaved changes and saves. It lives outside React so that the
// editor view, the tabs and the status bar read one source of truth, and so
// typing never re-renders the whole workspace.
//
// A document is either saved over HTTP (PUT after a pause in typing), or, when
// the store is linked to the server's live documents (collab/live.ts), live:
// the server holds the text, merges everyone's edits and writes the file
// itself, and the store only reports local edits and applies remote ones.

export type DocStatus = "loading" | "ready" | "binary" | "too-large" | "error";
/** Live documents use saved, saving (edits not yet confirmed), offline (kept until the connection returns) and error. */
export type SaveState = "saved" | "unsaved" | "saving" | "error" | "offline";

export interface DocInfo {
  path: string;
  status: DocStatus;
  loadError: string | null;
  saveState: SaveState;
  saveError: string | null;
  /** Shared live with everyone in the project (collab). */
  live: boolean;
  /** The person can't change it (a viewer, or a project they may only read). */
  readOnly: boolean;
}

/** A request to move the cursor to a place in a file and/or focus the editor. */
export interface Reveal {
  path: string;
  line?: number;
  column?: number;
  focus: boolean;
  seq: number;
}

export interface DocsSnapshot {
  tabs: DocInfo[];
  active: string | null;
  reveal: Reveal | null;
  cursor: { line: number; column: number } | null;
}

/**
 * The server's live documents, as the store sees them. The store tells it
 * which documents open, close, change and move; it answers through
 * liveOpened, transact and the other live* methods.
 */
export interface LiveLink {
  /** Asks the server for path (its text has loaded as UTF-8 over HTTP). */
  open(path: string): void;
  close(path: string): void;
  /** A local edit in path: send it. */
  changed(path: string): void;
  moved(from: string, to: string): void;
  /** This tab is about to move or delete path itself (so the server's word of it is no news). */
  expect(path: string): void;
  /** Sends path's edits now; true once the server has them all, false when it can't say so soon. */
  flush(path: string): Promise<boolean>;
}

export interface DocumentIO {
  read(path: string, signal: AbortSignal): Promise<ArrayBuffer>;
  write(path: string, text: string): Promise<void>;
  /** Told after every successful save (to refresh file sizes, say). */
  saved(path: string): void;
  /** Told when a save fails; the text stays in the editor. */
  saveFailed(path: string, message: string): void;
}

interface Entry {
  info: DocInfo;
  state: EditorState | null;
  saved: Text | null;
  timer: ReturnType<typeof setTimeout> | null;
  saving: Promise<boolean> | null;
  abort: AbortController | null;
  /** Too large to share live: saved over HTTP like a file of one's own. */
  solo: boolean;
  /** The file's line ending, written back on saves over HTTP (the editor's own breaks are "\n"). */
  eol: string;
}

export const AUTOSAVE_DELAY_MS = 1000;
/** Larger files are offered as a download: the browser editor would crawl. */
export const MAX_EDITABLE_BYTES = 5 * 1024 * 1024;

/**
 * The parts of a document's state the editor fills in when it shows it (the
 * store makes states before any editor has seen them, e.g. for live documents
 * that change while in a background tab).
 */
export const editorSlots = {
  theme: new Compartment(),
  language: new Compartment(),
  completion: new Compartment(),
  readOnly: new Compartment(),
};

/**
 * A document's editor state. Starting over from a previous state (the
 * server sent the whole text again) keeps its theme, language, completion
 * and, as far as the new text allows, its selection.
 * Ctrl/Cmd-S is handled by the workspace shortcuts (capture phase), not here.
 *
 * No lineSeparator is set, on purpose: CodeMirror then reads "\r\n", "\r"
 * and "\n" each as one line break (a pasted Windows text included) and holds
 * "\n" only, as the server's live documents do (internal/collab/eol.go), so
 * positions agree with the server's and no change carries a "\r".
 */
function createState(doc: string, readOnly: boolean, extra: Extension, from: EditorState | null = null): EditorState {
  const kept = (slot: Compartment) => (from && slot.get(from)) ?? [];
  const clamp = (n: number) => Math.min(n, doc.length);
  const sel = from?.selection.main;
  return EditorState.create({
    doc,
    selection: sel && EditorSelection.single(clamp(sel.anchor), clamp(sel.head)),
    extensions: [
      basicSetup,
      keymap.of([indentWithTab]),
      EditorView.contentAttributes.of({ "aria-label": "Code editor" }),
      editorSlots.theme.of(kept(editorSlots.theme)),
      editorSlots.readOnly.of(EditorState.readOnly.of(readOnly)),
      editorSlots.language.of(kept(editorSlots.language)),
      editorSlots.completion.of(kept(editorSlots.completion)),
      extra,
    ],
  });
}

export class DocumentStore {
  private entries = new Map<string, Entry>();
  private order: string[] = [];
  private listeners = new Set<() => void>();
  private snapshot: DocsSnapshot = { tabs: [], active: null, reveal: null, cursor: null };
  private active: string | null = null;
  private reveal: Reveal | null = null;
  private cursor: DocsSnapshot["cursor"] = null;
  private seq = 0;
  private live: LiveLink | null = null;
  /** The editor view and the document it shows: changes to that document go through it. */
  private view: EditorView | null = null;
  private viewPath: string | null = null;

  constructor(
    private io: DocumentIO,
    readonly canEdit: boolean,
  ) {}

  /** Links the store to the server's live documents (null unlinks); documents opened from now on are live. */
  goLive(live: LiveLink | null) {
    this.live = live;
  }

  // --- React glue (useSyncExternalStore) ---

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = () => this.snapshot;

  private emit() {
    const tabs = this.order.map((p) => this.entries.get(p)!.info);
    const prev = this.snapshot.tabs;
    // Keep the array's identity while no tab changed, so tab strips don't re-render on every cursor move.
    const same = tabs.length === prev.length && tabs.every((t, i) => t === prev[i]);
    this.snapshot = {
      tabs: same ? prev : tabs,
      active: this.active,
      reveal: this.reveal,
      cursor: this.cursor,
    };
    for (const l of this.listeners) l();
  }

  private setInfo(entry: Entry, patch: Partial<DocInfo>) {
    entry.info = { ...entry.info, ...patch };
    this.emit();
  }

  // --- Tabs ---

  /** Opens path in a tab (loading it once), makes it active, and optionally reveals a line. */
  open(path: string, opts: { line?: number; column?: number; focus?: boolean } = {}) {
    if (!this.entries.has(path)) {
      const entry: Entry = {
        info: blankInfo(path, this.canEdit),
        state: null,
        saved: null,
        timer: null,
        saving: null,
        abort: null,
        solo: false,
        eol: "\n",
      };
      this.entries.set(path, entry);
      const i = this.active ? this.order.indexOf(this.active) : -1;
      this.order.splice(i < 0 ? this.order.length : i + 1, 0, path);
      void this.load(entry);
    }
    this.active = path;
    if (opts.line !== undefined || opts.focus) {
      this.reveal = { path, line: opts.line, column: opts.column, focus: opts.focus ?? false, seq: ++this.seq };
    }
    this.emit();
  }

  activate(path: string) {
    if (this.entries.has(path) && this.active !== path) {
      this.active = path;
      this.emit();
    }
  }

  /** Closes a tab, dropping unsaved changes; ask the person first (see isDirty). */
  close(path: string) {
    const entry = this.entries.get(path);
    if (!entry) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.abort?.abort();
    this.live?.close(path);
    const i = this.order.indexOf(path);
    this.order.splice(i, 1);
    this.entries.delete(path);
    if (this.active === path) {
      this.active = this.order[Math.min(i, this.order.length - 1)] ?? null;
      this.cursor = null;
    }
    this.emit();
  }

  /** Has edits the server doesn't have yet (closing the tab would lose them). */
  isDirty(path: string): boolean {
    const info = this.entries.get(path)?.info;
    if (!info) return false;
    if (info.live) return info.saveState !== "saved";
    return info.saveState === "unsaved" || info.saveState === "error";
  }

  get anyDirty(): boolean {
    return this.order.some((p) => this.isDirty(p));
  }

  clearReveal(seq: number) {
    if (this.reveal?.seq === seq) {
      this.reveal = null;
      this.emit();
    }
  }

  setCursor(line: number, column: number) {
    if (this.cursor?.line === line && this.cursor.column === column) return;
    this.cursor = { line, column };
    this.emit();
  }

  // --- Loading ---

  private async load(entry: Entry, closeIfMissing = false) {
    const abort = new AbortController();
    entry.abort = abort;
    try {
      const buf = await this.io.read(entry.info.path, abort.signal);
      const text = buf.byteLength > MAX_EDITABLE_BYTES ? undefined : decodeText(buf);
      if (text === undefined) {
        this.setInfo(entry, { status: "too-large" });
      } else if (text === null) {
        this.setInfo(entry, { status: "binary" });
      } else if (this.live && !entry.solo) {
        // The server's copy wins (it may hold edits not yet on disk); the doc is ready once it answers.
        this.live.open(entry.info.path);
      } else {
        entry.eol = lineEnding(text);
        entry.state = createState(text, !this.canEdit, []);
        entry.saved = entry.state.doc;
        this.setInfo(entry, { status: "ready" });
      }
    } catch (err) {
      if (abort.signal.aborted) return;
      if (closeIfMissing && err instanceof ApiError && err.isNotFound) this.close(entry.info.path);
      else this.setInfo(entry, { status: "error", loadError: errorMessage(err) });
    } finally {
      if (entry.abort === abort) entry.abort = null;
    }
  }

  /** Loads a tab again after its load failed. */
  retry(path: string) {
    const entry = this.entries.get(path);
    if (!entry || entry.info.status !== "error") return;
    this.setInfo(entry, { status: "loading", loadError: null });
    void this.load(entry);
  }

  // --- Editor states ---

  editorState(path: string): EditorState | null {
    return this.entries.get(path)?.state ?? null;
  }

  /** The editor now shows path (a ready document) in view. */
  show(view: EditorView, path: string) {
    this.view = view;
    this.viewPath = path;
    const state = this.entries.get(path)?.state;
    if (state && view.state !== state) view.setState(state);
  }

  /** The editor is going away. */
  hide(view: EditorView) {
    if (this.view !== view) return;
    this.view = null;
    this.viewPath = null;
  }

  /** Called by the editor after every transaction it dispatched, for the document it shows. */
  viewUpdated(view: EditorView, transactions: readonly Transaction[]) {
    if (view !== this.view || this.viewPath === null) return;
    this.update(this.viewPath, view.state, transactions.some((t) => t.docChanged));
  }

  private update(path: string, state: EditorState, docChanged: boolean) {
    const entry = this.entries.get(path);
    if (!entry) return;
    entry.state = state;
    if (!docChanged) return;
    if (entry.info.live) {
      this.live?.changed(path);
      return;
    }
    const dirty = !entry.saved?.eq(state.doc);
    if (entry.info.saveState !== "saving") {
      const next: SaveState = dirty ? (entry.info.saveState === "error" ? "error" : "unsaved") : "saved";
      if (next !== entry.info.saveState) this.setInfo(entry, { saveState: next });
    }
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    if (dirty && this.canEdit) {
      entry.timer = setTimeout(() => void this.save(path), AUTOSAVE_DELAY_MS);
    }
  }

  // --- Saving ---

  /** Saves path if it has changes; resolves true when the file on the server matches the editor. */
  async save(path: string): Promise<boolean> {
    const entry = this.entries.get(path);
    if (entry?.info.live) return entry.info.readOnly || (this.live?.flush(path) ?? Promise.resolve(false));
    if (!entry?.state || !entry.saved || !this.canEdit) return true;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    // One save at a time per file; a save requested meanwhile runs after it.
    while (entry.saving) await entry.saving;
    if (!this.entries.has(path) || !entry.state) return true;
    const doc = entry.state.doc;
    if (entry.saved.eq(doc)) {
      if (entry.info.saveState !== "saved") this.setInfo(entry, { saveState: "saved", saveError: null });
      return true;
    }
    const target = entry.info.path;
    this.setInfo(entry, { saveState: "saving" });
    entry.saving = this.io.write(target, doc.sliceString(0, doc.length, entry.eol)).then(
      () => {
        entry.saved = doc;
        const clean = entry.state ? doc.eq(entry.state.doc) : true;
        this.setInfo(entry, { saveState: clean ? "saved" : "unsaved", saveError: null });
        this.io.saved(target);
        return true;
      },
      (err: unknown) => {
        const message = errorMessage(err);
        this.setInfo(entry, { saveState: "error", saveError: message });
        this.io.saveFailed(target, message);
        return false;
      },
    );
    try {
      return await entry.saving;
    } finally {
      entry.saving = null;
    }
  }

  async saveAll(): Promise<boolean> {
    const results = await Promise.all(this.order.filter((p) => this.isDirty(p)).map((p) => this.save(p)));
    return results.every(Boolean);
  }

  // --- Files changed elsewhere (tree operations) ---

  /** A file or folder moved: open tabs inside it follow. */
  moved(from: string, to: string) {
    let changed = false;
    this.order = this.order.map((p) => {
      const next = rebase(p, from, to);
      if (next === null || next === p) return p;
      const entry = this.entries.get(p)!;
      this.entries.delete(p);
      entry.info = { ...entry.info, path: next };
      this.entries.set(next, entry);
      if (this.active === p) this.active = next;
      if (this.viewPath === p) this.viewPath = next;
      changed = true;
      return next;
    });
    if (changed) {
      this.live?.moved(from, to);
      this.emit();
    }
  }

  /** A file or folder was deleted: its tabs close. */
  deleted(path: string) {
    for (const p of [...this.order]) if (isWithin(p, path)) this.close(p);
  }

  /**
   * The files changed on disk behind the editor (a restore): every tab loads
   * again, dropping its editor state; tabs whose file is gone close. Live
   * documents stay: the server sends what changed on disk as ordinary edits.
   */
  reloadAll() {
    for (const path of [...this.order]) {
      const entry = this.entries.get(path)!;
      if (entry.info.live) continue;
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
      entry.abort?.abort();
      entry.state = null;
      entry.saved = null;
      entry.info = blankInfo(path, this.canEdit);
      void this.load(entry, true);
    }
    this.emit();
  }

  // --- Live documents (called by the LiveLink) ---

  /**
   * The server sent path's whole text: the document (re)starts from it, at
   * the version extra's collab extension starts from.
   */
  liveOpened(path: string, text: string, extra: Extension, readOnly: boolean) {
    const entry = this.entries.get(path);
    if (!entry) return;
    const ro = readOnly || !this.canEdit;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.saved = null;
    this.replace(entry, createState(text, ro, extra, entry.state));
    this.setInfo(entry, { status: "ready", loadError: null, live: true, readOnly: ro, saveState: "saved", saveError: null });
  }

  /**
   * Applies a transaction, or transactions each made from the one before, made from path's current state (remote
   * edits); through the editor when it shows path.
   */
  transact(path: string, make: (state: EditorState) => Transaction | readonly Transaction[]) {
    const entry = this.entries.get(path);
    if (!entry?.state) return;
    if (this.view && this.viewPath === path) {
      const made = make(this.view.state);
      this.view.dispatch(made instanceof Transaction ? [made] : made);
    } else {
      const made = make(entry.state);
      entry.state = made instanceof Transaction ? made.state : (made.at(-1)?.state ?? entry.state);
    }
  }

  setLiveSave(path: string, saveState: SaveState, saveError: string | null = null) {
    const entry = this.entries.get(path);
    if (entry && (entry.info.saveState !== saveState || entry.info.saveError !== saveError)) {
      this.setInfo(entry, { saveState, saveError });
    }
  }

  setReadOnly(path: string, readOnly: boolean) {
    const entry = this.entries.get(path);
    const ro = readOnly || !this.canEdit;
    if (!entry?.state || entry.info.readOnly === ro) return;
    this.transact(path, (s) => s.update({ effects: editorSlots.readOnly.reconfigure(EditorState.readOnly.of(ro)) }));
    this.setInfo(entry, { readOnly: ro });
  }

  /**
   * The server would not open path: the tab says why and offers to try
   * again, or (alone) the file is edited without live sharing.
   */
  liveFailed(path: string, message: string, alone = false) {
    const entry = this.entries.get(path);
    if (!entry || entry.info.status !== "loading") return;
    if (!alone) {
      this.setInfo(entry, { status: "error", loadError: message });
      return;
    }
    entry.solo = true;
    void this.load(entry);
  }

  /** This tab is about to move or delete path itself. */
  expect(path: string) {
    this.live?.expect(path);
  }

  private replace(entry: Entry, state: EditorState) {
    entry.state = state;
    const view = this.view;
    if (view && this.viewPath === entry.info.path) {
      // Starting over shouldn't also jump the person to the top of the file.
      const top = view.scrollDOM.scrollTop;
      view.setState(state);
      view.scrollDOM.scrollTop = top;
    }
  }

  /** The workspace is closing: pending autosaves run now rather than being dropped. */
  dispose() {
    for (const [path, e] of this.entries) {
      e.abort?.abort();
      if (e.timer) {
        clearTimeout(e.timer);
        e.timer = null;
        void this.save(path);
      }
    }
  }
}

function blankInfo(path: string, canEdit: boolean): DocInfo {
  return { path, status: "loading", loadError: null, saveState: "saved", saveError: null, live: false, readOnly: !canEdit };
}

/**
 * The line ending most of text's line breaks use ("\r\n", "\n" or a lone "\r");
 * a tie goes to the one met first, no break at all is "\n". The server's rule
 * for live documents is the same (internal/collab/eol.go).
 */
export function lineEnding(text: string): string {
  const count = new Map<string, number>();
  let first = "\n";
  for (const [eol] of text.matchAll(/\r\n?|\n/g)) {
    if (count.size === 0) first = eol;
    count.set(eol, (count.get(eol) ?? 0) + 1);
  }
  let best = first;
  for (const [eol, n] of count) if (n > count.get(best)!) best = eol;
  return best;
}

/** The file as text, or null when it is binary or not UTF-8. */
export function decodeText(buf: ArrayBuffer): string | null {
  const bytes = new Uint8Array(buf);
  // A NUL byte in the first 8 KB is the classic sign of a binary file.
  if (bytes.subarray(0, 8192).includes(0)) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Subscribes a component to one slice of the store; it re-renders only when that slice changes. */
export function useDocs<T>(store: DocumentStore, select: (s: DocsSnapshot) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.getSnapshot()));
}
