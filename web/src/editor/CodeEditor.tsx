import { indentWithTab } from "@codemirror/commands";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { useEffect, useLayoutEffect, useMemo, useRef } from "react";
import { useAiStatus } from "@/agent/queries";
import { api } from "@/lib/api";
import type { Theme } from "@/lib/theme";
import { useWorkspace } from "@/workspace/model";
import { inlineCompletion } from "./completion";
import type { DocumentStore, Reveal } from "./documents";
import { loadLanguage } from "./languages";
import { editorTheme } from "./themes";

const themeSlot = new Compartment();
const languageSlot = new Compartment();
const completionSlot = new Compartment();

// Ctrl/Cmd-S is handled by the workspace shortcuts (capture phase), not here.
function newState(store: DocumentStore, text: string, theme: Theme, completion: Extension): EditorState {
  const extensions: Extension[] = [
    basicSetup,
    keymap.of([indentWithTab]),
    EditorView.contentAttributes.of({ "aria-label": "Code editor" }),
    themeSlot.of(editorTheme(theme)),
    EditorState.readOnly.of(!store.canEdit),
    languageSlot.of([]),
    completionSlot.of(completion),
  ];
  return EditorState.create({ doc: text, extensions });
}

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
}

/** One CodeMirror view that shows whichever document is active, keeping each one's state. */
export function CodeEditor({ store, path, theme, reveal }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const shown = useRef(path);
  const completion = useCompletion(store, shown);

  useLayoutEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      dispatchTransactions: (trs, v) => {
        v.update(trs);
        store.update(shown.current, v.state, trs.some((t) => t.docChanged));
        if (trs.some((t) => t.selection || t.docChanged)) reportCursor(store, v.state);
      },
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
  }, [store]);

  // Swap in the active document's state (its text, undo history, selection).
  useLayoutEffect(() => {
    const v = view.current!;
    shown.current = path;
    let state = store.editorState(path);
    if (!state) {
      state = newState(store, store.initialText(path) ?? "", theme, completion);
      store.attach(path, state);
    }
    v.setState(state);
    reportCursor(store, state);
    let cancelled = false;
    void loadLanguage(path).then((lang) => {
      if (cancelled || languageSlot.get(v.state) === lang) return;
      v.dispatch({ effects: languageSlot.reconfigure(lang) });
    });
    return () => {
      cancelled = true;
    };
    // The theme and completion are applied by the next effect; changing them must not swap states.
  }, [store, path]);

  useLayoutEffect(() => {
    const v = view.current!;
    const ext = editorTheme(theme);
    if (themeSlot.get(v.state) !== ext) v.dispatch({ effects: themeSlot.reconfigure(ext) });
    if (completionSlot.get(v.state) !== completion) v.dispatch({ effects: completionSlot.reconfigure(completion) });
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

  return <div ref={host} data-testid="editor" className="h-full min-h-0 overflow-hidden" />;
}

/** Inline completion for an editable file, while this server has a model; nothing otherwise. */
function useCompletion(store: DocumentStore, path: { current: string }): Extension {
  const projectId = useWorkspace().project.id;
  const configured = useAiStatus().data?.configured === true;
  const enabled = store.canEdit && configured;
  return useMemo(
    () =>
      enabled
        ? inlineCompletion((req, signal) => api.complete(projectId, { path: path.current, ...req }, signal))
        : [],
    [enabled, projectId, path],
  );
}
