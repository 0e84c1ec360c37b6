import type { EditorState, Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { useEffect, useLayoutEffect, useMemo, useRef } from "react";
import { useAiStatus } from "@/agent/queries";
import { setRemoteCursors } from "@/collab/cursors";
import type { PresenceStore } from "@/collab/presence";
import { api } from "@/lib/api";
import type { Theme } from "@/lib/theme";
import { useProjectSession } from "@/workspace/model";
import { inlineCompletion } from "./completion";
import { editorSlots, type DocumentStore, type Reveal } from "./documents";
import { loadLanguage } from "./languages";
import { editorTheme } from "./themes";

function reportCursor(store: DocumentStore, state: EditorState) {
  const head = state.selection.main.head;
  const line = state.doc.lineAt(head);
  store.setCursor(line.number, head - line.from + 1);
}

interface CodeEditorProps {
  store: DocumentStore;
  /** The active document; it must have loaded as text. */
  path: string;
  theme: Theme;
  reveal: Reveal | null;
  /** Who else is here: their cursors show in the document, and this editor's selection is told to them. */
  presence?: PresenceStore | null;
  /** The document is read only for this person (a viewer). */
  readOnly: boolean;
}

/** One CodeMirror view that shows whichever document is active, keeping each one's state. */
export function CodeEditor({ store, path, theme, reveal, presence = null, readOnly }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const shown = useRef(path);
  const completion = useCompletion(shown, readOnly);

  useLayoutEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      dispatchTransactions: (trs, v) => {
        v.update(trs);
        store.viewUpdated(v, trs);
        if (trs.some((t) => t.selection || t.docChanged)) {
          reportCursor(store, v.state);
          presence?.setLocal(shown.current, v.state.selection.main);
        }
      },
    });
    view.current = v;
    // Moving yourself (a key or a click in the editor) ends following someone.
    const stopFollowing = () => presence?.unfollow();
    v.contentDOM.addEventListener("keydown", stopFollowing);
    v.contentDOM.addEventListener("mousedown", stopFollowing);
    return () => {
      v.contentDOM.removeEventListener("keydown", stopFollowing);
      v.contentDOM.removeEventListener("mousedown", stopFollowing);
      store.hide(v);
      v.destroy();
      view.current = null;
    };
  }, [store, presence]);

  // Swap in the active document's state (its text, undo history, selection).
  useLayoutEffect(() => {
    const v = view.current!;
    shown.current = path;
    store.show(v, path);
    reportCursor(store, v.state);
    presence?.setLocal(path, v.state.selection.main);
    let cancelled = false;
    void loadLanguage(path).then((lang) => {
      if (cancelled || editorSlots.language.get(v.state) === lang) return;
      v.dispatch({ effects: editorSlots.language.reconfigure(lang) });
    });
    return () => {
      cancelled = true;
    };
    // The theme and completion are applied by the next effect; changing them must not swap states.
  }, [store, path, presence]);

  useLayoutEffect(() => {
    const v = view.current!;
    const ext = editorTheme(theme);
    if (editorSlots.theme.get(v.state) !== ext) v.dispatch({ effects: editorSlots.theme.reconfigure(ext) });
    if (editorSlots.completion.get(v.state) !== completion) {
      v.dispatch({ effects: editorSlots.completion.reconfigure(completion) });
    }
  }, [theme, completion, path]);

  useEffect(() => {
    const v = view.current;
    if (!v || !reveal || reveal.path !== path) return;
    if (reveal.line !== undefined) {
      const doc = v.state.doc;
      const line = doc.line(Math.min(Math.max(reveal.line, 1), doc.lines));
      const pos = line.from + Math.min(Math.max((reveal.column ?? 1) - 1, 0), line.length);
      v.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
    }
    if (reveal.focus || reveal.line !== undefined) v.focus();
    store.clearReveal(reveal.seq);
  }, [reveal, path, store]);

  usePeerCursors(view, path, presence);

  return <div ref={host} data-testid="editor" className="h-full min-h-0 overflow-hidden" />;
}

/**
 * Shows the cursors of the others who have this document open, and, while
 * following one of them, keeps their cursor in sight.
 */
function usePeerCursors(view: { current: EditorView | null }, path: string, presence: PresenceStore | null) {
  useEffect(() => {
    if (!presence) return;
    let followedAt = -1;
    const sync = () => {
      const v = view.current;
      if (!v) return;
      const { peers, following } = presence.getSnapshot();
      const here = peers.filter((p) => p.file === path && p.selection);
      v.dispatch({
        effects: setRemoteCursors.of(
          here.map((p) => ({ id: p.id, name: p.username, color: p.color, anchor: p.selection!.anchor, head: p.selection!.head })),
        ),
      });
      const head = following?.file === path ? following.selection?.head : undefined;
      if (head === undefined || head === followedAt) return;
      followedAt = head;
      const pos = Math.min(head, v.state.doc.length);
      v.dispatch({ effects: EditorView.scrollIntoView(pos, { y: "nearest", yMargin: 60 }) });
    };
    sync();
    return presence.subscribe(sync);
  }, [view, path, presence]);
}

/** Inline completion for an editable file, while this server has a model; nothing otherwise. */
function useCompletion(path: { current: string }, readOnly: boolean): Extension {
  const projectId = useProjectSession().project.id;
  const configured = useAiStatus().data?.configured === true;
  const enabled = !readOnly && configured;
  return useMemo(
    () =>
      enabled
        ? inlineCompletion((req, signal) => api.complete(projectId, { path: path.current, ...req }, signal))
        : [],
    [enabled, projectId, path],
  );
}
