import { useEffect, useLayoutEffect, useRef } from "react";
import { hasMod, isTypingTarget } from "@/lib/keys";
import type { Action } from "./actions";

// Global keys of the workspace, listened for in the capture phase so they win
// over the editor's own bindings (CodeMirror binds Mod-i, for instance).
const bindings: { id: string; mod: boolean; shift?: boolean; key: string }[] = [
  { id: "save", mod: true, key: "s" },
  { id: "quick-open", mod: true, key: "p" },
  { id: "palette", mod: true, key: "k" },
  { id: "search", mod: true, shift: true, key: "f" },
  { id: "show-shell", mod: true, key: "`" },
  { id: "show-agent", mod: true, key: "i" },
  { id: "run", mod: true, key: "enter" },
];

export function useShortcuts(actions: Action[], extra: Record<string, () => void>) {
  const latest = useRef({ actions, extra });
  useLayoutEffect(() => {
    latest.current = { actions, extra };
  });

  useEffect(() => {
    function onKeyDown(e: KeyboardEvent) {
      const key = e.key.toLowerCase();
      const { actions, extra } = latest.current;
      const run = (id: string) => extra[id]?.() ?? actions.find((a) => a.id === id)?.run();
      if (e.key === "?" && !hasMod(e) && !e.altKey && !isTypingTarget(e.target)) {
        e.preventDefault();
        run("shortcuts");
        return;
      }
      const hit = bindings.find((b) => b.key === key && b.mod === hasMod(e) && (b.shift ?? false) === e.shiftKey && !e.altKey);
      if (!hit) return;
      e.preventDefault();
      e.stopPropagation();
      run(hit.id);
    }
    window.addEventListener("keydown", onKeyDown, true);
    return () => window.removeEventListener("keydown", onKeyDown, true);
  }, []);
}
