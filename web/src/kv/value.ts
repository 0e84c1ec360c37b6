/** How a value is shown and edited: JSON (pretty-printed, checked, stored compact) or text (stored as typed). */
export type ValueMode = "json" | "text";

/** The value pretty-printed when it is JSON, null when it is not. */
export function pretty(value: string): string | null {
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return null;
  }
}

/** What to store for the text typed in mode, or why it can't be. JSON is stored compact, as clients write it. */
export function parseValue(text: string, mode: ValueMode): { ok: true; value: string } | { ok: false; error: string } {
  if (mode === "text") return { ok: true, value: text };
  try {
    return { ok: true, value: JSON.stringify(JSON.parse(text)) };
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}. Fix it, or switch to Text to store it as typed.` };
  }
}
