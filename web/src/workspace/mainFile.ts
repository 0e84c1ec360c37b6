import { useEffect, useRef } from "react";
import { useDocs } from "@/editor/documents";
import type { FileEntry, RunConfig } from "@/lib/api";
import { useRunConfig } from "@/run/runs";
import { useProjectSession, useProjectFiles } from "./model";

// Where people start reading a project, when nothing names it: the entry
// files of the usual stacks, the page of a static site, then the README.
const usualEntries = [
  "main.py",
  "app.py",
  "index.js",
  "main.go",
  "src/index.js",
  "src/index.ts",
  "src/main.tsx",
  "src/main.ts",
  "app/page.tsx",
  "index.html",
  "README.md",
];

/**
 * The project's main file: the one its run command names (node index.js,
 * python3 main.py), else the first usual entry it has; null when none.
 */
export function mainFile(files: FileEntry[], config: RunConfig | undefined): string | null {
  const present = new Set(files.filter((f) => !f.dir).map((f) => f.path));
  const named = config?.config.run
    ?.split(/\s+/)
    .map((w) => w.replace(/^\.\//, ""))
    .find((w) => present.has(w));
  return named ?? usualEntries.find((p) => present.has(p)) ?? null;
}

/** The open workspace's main file, once its files and run configuration are known. */
export function useMainFile(): string | null {
  const { project } = useProjectSession();
  const { filesQuery, files } = useProjectFiles();
  const config = useRunConfig(project.id);
  if (!filesQuery.data || config.isPending) return null;
  return mainFile(files, config.data);
}

/**
 * Opens the main file when the workspace opens with nothing open, once: a
 * new project shows its code rather than an empty editor. It neither takes
 * the keyboard nor switches a phone's tab.
 */
export function useOpenMainFile() {
  const { store } = useProjectSession();
  const main = useMainFile();
  const anyOpen = useDocs(store, (s) => s.tabs.length > 0);
  const done = useRef(false);
  useEffect(() => {
    if (done.current || main === null) return;
    done.current = true;
    if (!anyOpen) store.open(main);
  }, [main, anyOpen, store]);
}
