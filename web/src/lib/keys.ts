import type { KeyboardEvent as ReactKeyboardEvent } from "react";

export const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);

/** The platform's command modifier as people read it. */
export const modKey = isMac ? "⌘" : "Ctrl";

/** Ctrl on Linux/Windows, Cmd on macOS. */
export function hasMod(e: KeyboardEvent | ReactKeyboardEvent): boolean {
  return isMac ? e.metaKey : e.ctrlKey;
}

/** True while the person is typing somewhere a bare key (like "?") must not be stolen. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return target.closest("input, textarea, select, [contenteditable='true'], .cm-editor") !== null;
}
