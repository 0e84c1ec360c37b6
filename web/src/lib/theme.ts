import { useSyncExternalStore } from "react";

export type Theme = "dark" | "light";

const KEY = "ecode.theme";
const listeners = new Set<() => void>();

function stored(): Theme {
  try {
    return localStorage.getItem(KEY) === "light" ? "light" : "dark";
  } catch {
    return "dark";
  }
}

let current: Theme = stored();

function apply(theme: Theme) {
  document.documentElement.classList.toggle("dark", theme === "dark");
}

// Apply before React renders so the first paint already has the right colours.
apply(current);

export function setTheme(theme: Theme) {
  current = theme;
  try {
    localStorage.setItem(KEY, theme);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  apply(theme);
  for (const l of listeners) l();
}

export function toggleTheme() {
  setTheme(current === "dark" ? "light" : "dark");
}

export function useTheme(): Theme {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
}
