import "@xterm/xterm/css/xterm.css";
import { FitAddon } from "@xterm/addon-fit";
import { Terminal, type ITheme } from "@xterm/xterm";
import { useEffect, useState, type RefObject } from "react";
import { useTheme } from "@/lib/theme";

// xterm.js set up the E-Code way: the code font at 14 px on the page's own
// background, ANSI colours readable in both themes (AA on that background),
// and the size kept fitted to its pane. The Console and the Shell both use
// it; it is only imported from their lazily loaded chunks.

// Dark: the xterm defaults, brightened where they fall under 4.5:1 on #0f1115.
const darkAnsi: ITheme = {
  black: "#3b4048",
  red: "#f87171",
  green: "#4ade80",
  yellow: "#facc15",
  blue: "#60a5fa",
  magenta: "#e879f9",
  cyan: "#22d3ee",
  white: "#d1d5db",
  brightBlack: "#8b93a1",
  brightRed: "#fca5a5",
  brightGreen: "#86efac",
  brightYellow: "#fde68a",
  brightBlue: "#93c5fd",
  brightMagenta: "#f0abfc",
  brightCyan: "#67e8f9",
  brightWhite: "#f9fafb",
};

// Light: darker shades so that every colour but white keeps 4.5:1 on white.
const lightAnsi: ITheme = {
  black: "#111827",
  red: "#b91c1c",
  green: "#15803d",
  yellow: "#a16207",
  blue: "#1d4ed8",
  magenta: "#a21caf",
  cyan: "#0e7490",
  white: "#6b7280",
  brightBlack: "#4b5563",
  brightRed: "#991b1b",
  brightGreen: "#166534",
  brightYellow: "#854d0e",
  brightBlue: "#1e40af",
  brightMagenta: "#86198f",
  brightCyan: "#155e75",
  brightWhite: "#374151",
};

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** The terminal's colours for the theme the page shows now (read from its CSS variables). */
function terminalTheme(): ITheme {
  const dark = document.documentElement.classList.contains("dark");
  const background = cssVar("--background");
  const foreground = cssVar("--foreground");
  return {
    ...(dark ? darkAnsi : lightAnsi),
    background,
    foreground,
    cursor: foreground,
    cursorAccent: background,
    selectionBackground: cssVar("--selection"),
    selectionForeground: foreground,
  };
}

export interface TerminalOptions {
  /** Output only: no keyboard input, no cursor, and "\n" starts a new line (program output isn't from a tty). */
  readOnly?: boolean;
  /** What screen readers call it. */
  label: string;
}

/**
 * An xterm.js terminal mounted in ref's element, fitted to it and following
 * the theme; null until its element is first shown. The element must have
 * a size of its own (the terminal fills it).
 */
export function useTerminal(ref: RefObject<HTMLElement | null>, { readOnly = false, label }: TerminalOptions) {
  const theme = useTheme();
  const [term, setTerm] = useState<Terminal | null>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const t = new Terminal({
      fontFamily: cssVar("--font-mono") || "monospace",
      fontSize: 14,
      lineHeight: 1.2,
      scrollback: 5000,
      convertEol: readOnly,
      disableStdin: readOnly,
      cursorBlink: !readOnly,
      cursorInactiveStyle: readOnly ? "none" : "outline",
      theme: terminalTheme(),
    });
    const fit = new FitAddon();
    t.loadAddon(fit);
    // xterm measures its font when opened, so it opens once its pane is first
    // shown; and it is fitted only while shown, as a hidden pane has no size.
    let opened = false;
    let hidden = true;
    const refit = () => {
      if (el.clientWidth === 0 || el.clientHeight === 0) {
        hidden = true;
        return;
      }
      if (!opened) {
        opened = true;
        t.open(el);
        if (readOnly) t.write("\x1b[?25l");
        t.textarea?.setAttribute("aria-label", label);
        setTerm(t);
      } else if (hidden) {
        remeasure(t);
      }
      hidden = false;
      fit.fit();
    };
    const observer = new ResizeObserver(refit);
    observer.observe(el);
    refit();
    return () => {
      observer.disconnect();
      t.dispose();
      setTerm(null);
    };
  }, [ref, readOnly, label]);

  useEffect(() => {
    if (term) term.options.theme = terminalTheme();
  }, [term, theme]);

  return term;
}

/**
 * Output that arrives just as a pane is hidden can be drawn while it has no
 * size, and xterm's DOM renderer then keeps zero as the width of those
 * characters (spreading every later line apart). Changing a font option makes
 * it measure again; this changes one and puts it back, then redraws.
 */
function remeasure(t: Terminal) {
  const weight = t.options.fontWeight;
  t.options.fontWeight = weight === "normal" ? 400 : "normal";
  t.options.fontWeight = weight;
  t.refresh(0, t.rows - 1);
}

/** Clears a read-only terminal for new output (and keeps its cursor hidden). */
export function resetOutput(term: Terminal) {
  term.reset();
  term.write("\x1b[?25l");
}
