import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import type { Extension } from "@codemirror/state";
import { oneDark } from "@codemirror/theme-one-dark";
import { EditorView } from "@codemirror/view";
import { tags as t } from "@lezer/highlight";
import type { Theme } from "@/lib/theme";

// The editor sits on the page's own background so code and chrome read as one
// surface; syntax colours come from One Dark (dark) or CodeMirror's default
// highlight style (light, AA on white).
const surface = (dark: boolean) =>
  EditorView.theme(
    {
      "&": { backgroundColor: "var(--background)", color: "var(--foreground)" },
      ".cm-gutters": {
        backgroundColor: "var(--background)",
        color: "var(--muted-foreground)",
        borderRight: "1px solid var(--border)",
      },
      ".cm-activeLine": { backgroundColor: dark ? "#ffffff0a" : "#0000000a" },
      ".cm-activeLineGutter": { backgroundColor: "transparent", color: "var(--foreground)" },
      ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--foreground)" },
      "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection":
        { backgroundColor: "var(--selection)" },
      ".cm-panels": { backgroundColor: "var(--panel)", color: "var(--foreground)" },
      ".cm-tooltip": { backgroundColor: "var(--popover)", border: "1px solid var(--border)" },
    },
    { dark },
  );

// Earlier extensions take precedence, so the surface overrides One Dark's own background.
const dark: Extension = [surface(true), oneDark];
const lightHighlight = HighlightStyle.define([
  { tag: [t.keyword, t.operatorKeyword, t.modifier, t.controlKeyword], color: "#cf222e" },
  { tag: [t.string, t.special(t.string), t.regexp, t.character], color: "#0a3069" },
  { tag: [t.comment, t.lineComment, t.blockComment, t.docComment], color: "#5f6b76", fontStyle: "italic" },
  { tag: [t.number, t.bool, t.null, t.atom, t.constant(t.name), t.standard(t.name)], color: "#0550ae" },
  { tag: [t.function(t.variableName), t.function(t.propertyName), t.definition(t.function(t.variableName))], color: "#6639ba" },
  { tag: [t.typeName, t.className, t.namespace, t.definition(t.typeName)], color: "#953800" },
  { tag: [t.propertyName, t.attributeName], color: "#0550ae" },
  { tag: [t.tagName, t.angleBracket], color: "#116329" },
  { tag: t.heading, color: "#0550ae", fontWeight: "bold" },
  { tag: t.strong, fontWeight: "bold" },
  { tag: t.emphasis, fontStyle: "italic" },
  { tag: t.link, color: "#0a3069", textDecoration: "underline" },
  { tag: t.invalid, color: "#82071e" },
]);

const light: Extension = [surface(false), syntaxHighlighting(lightHighlight)];

export function editorTheme(theme: Theme): Extension {
  return theme === "dark" ? dark : light;
}
