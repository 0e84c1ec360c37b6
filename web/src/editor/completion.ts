import { Annotation, Prec, StateEffect, StateField, type Extension, type Transaction } from "@codemirror/state";
import { Decoration, EditorView, keymap, ViewPlugin, WidgetType, type ViewUpdate } from "@codemirror/view";

// Inline completion: after a pause in typing, the model's guess at what comes
// next shows as muted ghost text at the cursor. Tab takes it, Escape drops it,
// and anything else (typing on, moving the cursor) clears it and cancels the
// request in flight.

/** Asks for a completion of the text between prefix and suffix; "" for none. */
export type CompletionSource = (req: { prefix: string; suffix: string }, signal: AbortSignal) => Promise<string>;

export const COMPLETION_DELAY_MS = 300;
const PREFIX_CHARS = 4000;
const SUFFIX_CHARS = 1000;

interface Suggestion {
  pos: number;
  text: string;
}

const setSuggestion = StateEffect.define<Suggestion | null>();
/** Marks the edit that accepts a suggestion, so it doesn't ask for another at once. */
const accepting = Annotation.define<boolean>();

class GhostText extends WidgetType {
  constructor(readonly text: string) {
    super();
  }
  eq(other: GhostText) {
    return other.text === this.text;
  }
  toDOM() {
    const span = document.createElement("span");
    span.className = "cm-inline-suggestion";
    span.setAttribute("aria-hidden", "true");
    span.textContent = this.text;
    return span;
  }
  ignoreEvent() {
    return true;
  }
}

const suggestionField = StateField.define<Suggestion | null>({
  create: () => null,
  update(value, tr: Transaction) {
    for (const e of tr.effects) if (e.is(setSuggestion)) return e.value;
    return tr.docChanged || tr.selection ? null : value;
  },
  provide: (field) =>
    EditorView.decorations.from(field, (s) =>
      s ? Decoration.set([Decoration.widget({ widget: new GhostText(s.text), side: 1 }).range(s.pos)]) : Decoration.none,
    ),
});

function accept(view: EditorView): boolean {
  const s = view.state.field(suggestionField, false);
  if (!s) return false;
  view.dispatch({
    changes: { from: s.pos, insert: s.text },
    selection: { anchor: s.pos + s.text.length },
    annotations: accepting.of(true),
    scrollIntoView: true,
    userEvent: "input.complete",
  });
  return true;
}

function dismiss(view: EditorView): boolean {
  if (!view.state.field(suggestionField, false)) return false;
  view.dispatch({ effects: setSuggestion.of(null) });
  return true;
}

/** Typing (not undo, not a reload, not taking a suggestion) is what asks for a completion. */
const typed = (u: ViewUpdate) =>
  u.transactions.some((tr) => (tr.isUserEvent("input") || tr.isUserEvent("delete")) && !tr.annotation(accepting));

const fetcher = (source: CompletionSource) =>
  ViewPlugin.fromClass(
    class {
      private timer: ReturnType<typeof setTimeout> | null = null;
      private abort: AbortController | null = null;

      constructor(private view: EditorView) {}

      update(u: ViewUpdate) {
        if (!u.docChanged && !u.selectionSet) return;
        this.cancel();
        if (typed(u) && u.state.selection.main.empty) this.timer = setTimeout(() => void this.fetch(), COMPLETION_DELAY_MS);
      }

      private async fetch() {
        this.timer = null;
        const state = this.view.state;
        const pos = state.selection.main.head;
        const abort = new AbortController();
        this.abort = abort;
        try {
          const text = await source(
            {
              prefix: state.doc.sliceString(Math.max(0, pos - PREFIX_CHARS), pos),
              suffix: state.doc.sliceString(pos, pos + SUFFIX_CHARS),
            },
            abort.signal,
          );
          // Any edit or cursor move since aborted this request, so the cursor is still at pos.
          if (abort.signal.aborted || !text) return;
          this.view.dispatch({ effects: setSuggestion.of({ pos, text }) });
        } catch (err) {
          if (!abort.signal.aborted) console.debug("inline completion failed", err);
        } finally {
          if (this.abort === abort) this.abort = null;
        }
      }

      private cancel() {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.abort?.abort();
        this.abort = null;
      }

      destroy() {
        this.cancel();
      }
    },
  );

const ghostTheme = EditorView.baseTheme({
  ".cm-inline-suggestion": { opacity: "0.5", fontStyle: "italic", whiteSpace: "pre", pointerEvents: "none" },
});

/** Ghost-text completion from source; Tab accepts and Escape dismisses only while a suggestion shows. */
export function inlineCompletion(source: CompletionSource): Extension {
  return [
    suggestionField,
    fetcher(source),
    ghostTheme,
    Prec.highest(
      keymap.of([
        { key: "Tab", run: accept },
        { key: "Escape", run: dismiss },
      ]),
    ),
  ];
}
