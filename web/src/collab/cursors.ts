import { EditorSelection, StateEffect, StateField, type Extension } from "@codemirror/state";
import { EditorView, layer, RectangleMarker, type LayerMarker, type ViewUpdate } from "@codemirror/view";

// Other people's carets and selections in the editor, each in their colour
// with their name over the caret. They are drawn in layers beside the text
// (as CodeMirror draws its own cursor), so the document's DOM holds only
// the document. Positions move with local edits until the next presence
// message places them again.

export interface RemoteCursor {
  id: string;
  name: string;
  color: string;
  anchor: number;
  head: number;
}

/** Replaces the cursors shown in this document. */
export const setRemoteCursors = StateEffect.define<readonly RemoteCursor[]>();

const cursorsField = StateField.define<readonly RemoteCursor[]>({
  create: () => [],
  update(cursors, tr) {
    for (const e of tr.effects) if (e.is(setRemoteCursors)) return clamp(e.value, tr.state.doc.length);
    if (!tr.docChanged || cursors.length === 0) return cursors;
    return cursors.map((c) => ({ ...c, anchor: tr.changes.mapPos(c.anchor), head: tr.changes.mapPos(c.head) }));
  },
});

function clamp(cursors: readonly RemoteCursor[], length: number): readonly RemoteCursor[] {
  const at = (n: number) => Math.max(0, Math.min(n, length));
  return cursors.map((c) => ({ ...c, anchor: at(c.anchor), head: at(c.head) }));
}

/** One drawn piece: a selection rectangle, or a caret with its name tag. */
class PeerMarker implements LayerMarker {
  constructor(
    readonly kind: "selection" | "caret",
    readonly color: string,
    readonly name: string,
    readonly left: number,
    readonly top: number,
    readonly width: number,
    readonly height: number,
  ) {}

  eq(other: LayerMarker): boolean {
    return (
      other instanceof PeerMarker &&
      other.kind === this.kind &&
      other.color === this.color &&
      other.name === this.name &&
      other.left === this.left &&
      other.top === this.top &&
      other.width === this.width &&
      other.height === this.height
    );
  }

  draw(): HTMLElement {
    const el = document.createElement("div");
    this.paint(el);
    return el;
  }

  update(el: HTMLElement, prev: LayerMarker): boolean {
    if (!(prev instanceof PeerMarker) || prev.kind !== this.kind) return false;
    this.paint(el);
    return true;
  }

  private paint(el: HTMLElement) {
    el.className = this.kind === "caret" ? "cm-remote-caret" : "cm-remote-selection";
    el.style.left = `${this.left}px`;
    el.style.top = `${this.top}px`;
    el.style.height = `${this.height}px`;
    if (this.kind === "selection") {
      el.style.width = `${this.width}px`;
      el.style.backgroundColor = `${this.color}40`;
      return;
    }
    el.style.borderLeftColor = this.color;
    let label = el.firstElementChild as HTMLElement | null;
    if (!label) {
      label = document.createElement("div");
      el.appendChild(label);
    }
    // On the first line there's no room above the caret; the tag goes below it.
    label.className = this.top < 16 ? "cm-remote-label cm-remote-label-below" : "cm-remote-label";
    label.textContent = this.name;
    label.style.backgroundColor = this.color;
    label.style.color = readableOn(this.color);
  }
}

function markers(view: EditorView, kind: PeerMarker["kind"]): LayerMarker[] {
  const out: LayerMarker[] = [];
  for (const c of view.state.field(cursorsField)) {
    const range = kind === "caret" ? EditorSelection.cursor(c.head) : EditorSelection.range(c.anchor, c.head);
    if (kind === "selection" && range.empty) continue;
    for (const r of RectangleMarker.forRange(view, "", range)) {
      out.push(new PeerMarker(kind, c.color, c.name, r.left, r.top, r.width ?? 0, r.height));
    }
  }
  return out;
}

const changed = (update: ViewUpdate) =>
  update.docChanged ||
  update.viewportChanged ||
  update.geometryChanged ||
  update.startState.field(cursorsField) !== update.state.field(cursorsField);

const theme = EditorView.baseTheme({
  ".cm-remote-caret": {
    position: "absolute",
    borderLeft: "2px solid",
    marginLeft: "-1px",
    pointerEvents: "none",
  },
  ".cm-remote-label": {
    position: "absolute",
    left: "-2px",
    bottom: "100%",
    padding: "0 4px",
    borderRadius: "3px 3px 3px 0",
    fontFamily: "var(--font-sans, sans-serif)",
    fontSize: "11px",
    lineHeight: "15px",
    whiteSpace: "nowrap",
    userSelect: "none",
  },
  ".cm-remote-label-below": { bottom: "auto", top: "100%", borderRadius: "0 3px 3px 3px" },
  ".cm-remote-selection": { position: "absolute", pointerEvents: "none" },
  ".cm-remote-layer": { zIndex: "150" },
});

/** The extension: give it cursors with setRemoteCursors. */
export function remoteCursors(): Extension {
  return [
    cursorsField,
    layer({ above: false, class: "cm-remote-selections", update: changed, markers: (v) => markers(v, "selection") }),
    layer({ above: true, class: "cm-remote-layer", update: changed, markers: (v) => markers(v, "caret") }),
    theme,
  ];
}

/** Black or white, whichever reads better on colour (a #rrggbb). */
export function readableOn(color: string): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) return "#fff";
  const [r, g, b] = m.slice(1).map((h) => {
    const c = parseInt(h, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.35 ? "#111827" : "#ffffff";
}
