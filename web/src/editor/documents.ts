import { useSyncExternalStore } from "react";
import type { EditorState, Text } from "@codemirror/state";
import { ApiError, errorMessage } from "@/lib/api";
import { isWithin, rebase } from "@/lib/paths";

// The open files of one workspace: their tabs, loaded contents, live editor
// states, unsaved changes and saves. It lives outside React so that the
// editor view, the tabs and the status bar read one source of truth, and so
// typing never re-renders the whole workspace.

export type DocStatus = "loading" | "ready" | "binary" | "too-large" | "error";
export type SaveState = "saved" | "unsaved" | "saving" | "error";

export interface DocInfo {
  path: string;
  status: DocStatus;
  loadError: string | null;
  saveState: SaveState;
  saveError: string | null;
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
  text: string | null;
  state: EditorState | null;
  saved: Text | null;
  timer: ReturnType<typeof setTimeout> | null;
  saving: Promise<boolean> | null;
  abort: AbortController | null;
}

export const AUTOSAVE_DELAY_MS = 1000;
/** Larger files are offered as a download: the browser editor would crawl. */
export const MAX_EDITABLE_BYTES = 5 * 1024 * 1024;

export class DocumentStore {
  private entries = new Map<string, Entry>();
  private order: string[] = [];
  private listeners = new Set<() => void>();
  private snapshot: DocsSnapshot = { tabs: [], active: null, reveal: null, cursor: null };
  private active: string | null = null;
  private reveal: Reveal | null = null;
  private cursor: DocsSnapshot["cursor"] = null;
  private seq = 0;

  constructor(
    private io: DocumentIO,
    readonly canEdit: boolean,
  ) {}

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
        info: { path, status: "loading", loadError: null, saveState: "saved", saveError: null },
        text: null,
        state: null,
        saved: null,
        timer: null,
        saving: null,
        abort: null,
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
    const i = this.order.indexOf(path);
    this.order.splice(i, 1);
    this.entries.delete(path);
    if (this.active === path) {
      this.active = this.order[Math.min(i, this.order.length - 1)] ?? null;
      this.cursor = null;
    }
    this.emit();
  }

  isDirty(path: string): boolean {
    const s = this.entries.get(path)?.info.saveState;
    return s === "unsaved" || s === "error";
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
      } else {
        entry.text = text;
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

  /** The text a newly shown document starts with. */
  initialText(path: string): string | null {
    return this.entries.get(path)?.text ?? null;
  }

  editorState(path: string): EditorState | null {
    return this.entries.get(path)?.state ?? null;
  }

  /** Records the editor state a document was first shown with; its text counts as saved. */
  attach(path: string, state: EditorState) {
    const entry = this.entries.get(path);
    if (!entry) return;
    entry.state = state;
    entry.saved ??= state.doc;
    entry.text = null; // the editor state holds the text from now on
  }

  /** Called by the editor after every transaction of the active document. */
  update(path: string, state: EditorState, docChanged: boolean) {
    const entry = this.entries.get(path);
    if (!entry) return;
    entry.state = state;
    if (!docChanged) return;
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
    entry.saving = this.io.write(target, doc.toString()).then(
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
      changed = true;
      return next;
    });
    if (changed) this.emit();
  }

  /** A file or folder was deleted: its tabs close. */
  deleted(path: string) {
    for (const p of [...this.order]) if (isWithin(p, path)) this.close(p);
  }

  /**
   * The files changed on disk behind the editor (a restore): every tab loads
   * again, dropping its editor state; tabs whose file is gone close.
   */
  reloadAll() {
    for (const path of [...this.order]) {
      const entry = this.entries.get(path)!;
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
      entry.abort?.abort();
      entry.text = null;
      entry.state = null;
      entry.saved = null;
      entry.info = { path, status: "loading", loadError: null, saveState: "saved", saveError: null };
      void this.load(entry, true);
    }
    this.emit();
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
