import { useEffect, useLayoutEffect, useRef } from "react";
import { toast } from "sonner";
import { hasMod, isMac, isTypingTarget } from "@/lib/keys";
import type { Action } from "./actions";

// Global keys of the workspace, listened for in the capture phase so they win
// over the editor's own bindings (CodeMirror binds Mod-i, for instance).
// In a shell, Ctrl-K, Ctrl-P and friends belong to the shell (readline), so
// only the bindings marked inShell fire there, unless the modifier is Cmd.
const bindings: { id: string; mod: boolean; shift?: boolean; key: string; inShell?: boolean }[] = [
  { id: "save", mod: true, key: "s" },
  { id: "quick-open", mod: true, key: "p" },
  { id: "palette", mod: true, key: "k" },
  { id: "search", mod: true, shift: true, key: "f" },
  { id: "show-shell", mod: true, key: "`", inShell: true },
  { id: "show-agent", mod: true, key: "i" },
  { id: "run", mod: true, key: "enter", inShell: true },
];

/** Marks an element whose keys go to a shell (see bindings). */
export const SHELL_KEYS = { "data-keys": "shell" } as const;

/** Marks a text box whose Ctrl/Cmd-Enter sends what was typed (the agent's prompt) rather than Run. */
export const SUBMIT_KEYS = { "data-keys": "submit" } as const;

function inShell(target: EventTarget | null): boolean {
  return !isMac && target instanceof Element && target.closest("[data-keys='shell']") !== null;
}

function inSubmitBox(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest("[data-keys='submit']") !== null;
}

export function useShortcuts(actions: Action[], extra: Record<string, () => void>) {
  const latest = useRef({ actions, extra });
  useLayoutEffect(() => {
    latest.current = { actions, extra };
  });

  useEffect(() => {
    function onKeyDown(e: KeyboardEvent) {
      const key = e.key.toLowerCase();
      const { actions, extra } = latest.current;
      const run = (id: string) => {
        if (extra[id]) return extra[id]();
        const action = actions.find((a) => a.id === id);
        if (action?.disabled) toast.info(action.disabled);
        else action?.run();
      };
      if (e.key === "?" && !hasMod(e) && !e.altKey && !isTypingTarget(e.target)) {
        e.preventDefault();
        run("shortcuts");
        return;
      }
      const hit = bindings.find((b) => b.key === key && b.mod === hasMod(e) && (b.shift ?? false) === e.shiftKey && !e.altKey);
      if (!hit || (!hit.inShell && inShell(e.target)) || (hit.id === "run" && inSubmitBox(e.target))) return;
      e.preventDefault();
      e.stopPropagation();
      run(hit.id);
    }
    window.addEventListener("keydown", onKeyDown, true);
    return () => window.removeEventListener("keydown", onKeyDown, true);
  }, []);
}
