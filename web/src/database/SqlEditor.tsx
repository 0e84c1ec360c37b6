import { PostgreSQL, sql } from "@codemirror/lang-sql";
import { Compartment, EditorState, Prec, StateEffect, StateField } from "@codemirror/state";
import { Decoration, EditorView, keymap, type DecorationSet } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { useEffect, useLayoutEffect, useRef } from "react";
import { editorTheme } from "@/editor/themes";
import { useTheme } from "@/lib/theme";
import { SUBMIT_KEYS } from "@/workspace/useShortcuts";

/**
 * Where PostgreSQL's 1-based position (in characters, as it counts them: code points) falls in a
 * JavaScript string (UTF-16 units), 0-based; past the end, the last character.
 */
export function offsetOfPosition(text: string, position: number): number {
  let offset = 0;
  for (let n = 1; n < position && offset < text.length; n++) {
    offset += (text.codePointAt(offset) ?? 0) > 0xffff ? 2 : 1;
  }
  return Math.max(0, Math.min(offset, text.length - 1));
}

const setError = StateEffect.define<number | null>();
const errorMark = Decoration.mark({ class: "cm-sql-error", attributes: { "data-testid": "sql-error-mark" } });

/** The character PostgreSQL pointed at, underlined until the text changes. */
const errorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, tr) {
    for (const e of tr.effects) {
      if (!e.is(setError)) continue;
      const at = e.value;
      const len = tr.state.doc.length;
      if (at === null || len === 0) return Decoration.none;
      const from = Math.min(at, len - 1);
      return Decoration.set([errorMark.range(from, from + 1)]);
    }
    return tr.docChanged ? Decoration.none : marks;
  },
  provide: (f) => EditorView.decorations.from(f),
});

const errorTheme = EditorView.baseTheme({
  ".cm-sql-error": {
    textDecoration: "underline wavy var(--destructive-text)",
    textDecorationSkipInk: "none",
    textUnderlineOffset: "3px",
    backgroundColor: "color-mix(in srgb, var(--destructive) 20%, transparent)",
  },
});

interface SqlEditorProps {
  text: string;
  onChange: (text: string) => void;
  /** Ctrl/Cmd-Enter, with the text as it is at that moment. */
  onRun: (text: string) => void;
  /** The 0-based offset of the character to mark as where the error is, or null. */
  errorAt: number | null;
  label: string;
}

/** A CodeMirror editor for PostgreSQL's SQL; Ctrl/Cmd-Enter runs what it holds. */
export function SqlEditor({ text, onChange, onRun, errorAt, label }: SqlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const themeSlot = useRef(new Compartment());
  const theme = useTheme();
  const latest = useRef({ onChange, onRun });
  useLayoutEffect(() => {
    latest.current = { onChange, onRun };
  });

  useLayoutEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: text,
        extensions: [
          Prec.highest(
            keymap.of([
              {
                key: "Mod-Enter",
                run: (v) => {
                  latest.current.onRun(v.state.doc.toString());
                  return true;
                },
              },
            ]),
          ),
          basicSetup,
          sql({ dialect: PostgreSQL, upperCaseKeywords: true }),
          EditorView.lineWrapping,
          themeSlot.current.of(editorTheme(theme)),
          errorField,
          errorTheme,
          EditorView.contentAttributes.of({ "aria-label": label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) latest.current.onChange(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
    // The editor is made once; text, theme and the error reach it through the effects below.
  }, []);

  // Text set from outside (a query picked from the history) replaces the editor's.
  useEffect(() => {
    const v = view.current!;
    if (v.state.doc.toString() !== text) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
  }, [text]);

  useEffect(() => {
    view.current!.dispatch({ effects: themeSlot.current.reconfigure(editorTheme(theme)) });
  }, [theme]);

  useEffect(() => {
    const v = view.current!;
    v.dispatch({ effects: setError.of(errorAt) });
    if (errorAt !== null) v.dispatch({ selection: { anchor: Math.min(errorAt, v.state.doc.length) }, scrollIntoView: true });
  }, [errorAt]);

  return (
    <div
      ref={host}
      {...SUBMIT_KEYS}
      data-testid="sql-editor"
      className="h-full min-h-0 overflow-hidden text-[14px] [&_.cm-editor]:h-full [&_.cm-scroller]:font-mono"
    />
  );
}
