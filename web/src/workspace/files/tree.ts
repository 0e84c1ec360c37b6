import type { FileEntry } from "@/lib/api";
import { basename, dirname } from "@/lib/paths";

export interface TreeNode {
  path: string;
  name: string;
  dir: boolean;
  size: number;
  children: TreeNode[];
}

/** Builds the nested tree from the server's flat list: folders first, then files, by name. */
export function buildTree(entries: FileEntry[]): TreeNode[] {
  const root: TreeNode[] = [];
  const dirs = new Map<string, TreeNode>();
  const ensureDir = (path: string): TreeNode[] => {
    if (path === "") return root;
    let node = dirs.get(path);
    if (!node) {
      node = { path, name: basename(path), dir: true, size: 0, children: [] };
      dirs.set(path, node);
      ensureDir(dirname(path)).push(node);
    }
    return node.children;
  };
  for (const e of entries) {
    if (e.dir) ensureDir(e.path);
    else ensureDir(dirname(e.path)).push({ path: e.path, name: basename(e.path), dir: false, size: e.size, children: [] });
  }
  sortTree(root);
  return root;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

function sortTree(nodes: TreeNode[]) {
  nodes.sort((a, b) => (a.dir === b.dir ? collator.compare(a.name, b.name) : a.dir ? -1 : 1));
  for (const n of nodes) if (n.dir) sortTree(n.children);
}

export interface VisibleRow {
  node: TreeNode;
  depth: number;
  parent: string | null;
  /** 1-based position among its siblings, and their count (for aria-posinset/setsize). */
  index: number;
  siblings: number;
}

/** The rows a person sees, in order, given which folders are expanded. */
export function visibleRows(nodes: TreeNode[], expanded: ReadonlySet<string>, depth = 0, parent: string | null = null): VisibleRow[] {
  const rows: VisibleRow[] = [];
  for (const [i, node] of nodes.entries()) {
    rows.push({ node, depth, parent, index: i + 1, siblings: nodes.length });
    if (node.dir && expanded.has(node.path)) rows.push(...visibleRows(node.children, expanded, depth + 1, node.path));
  }
  return rows;
}

/** Why a typed path can't be used, or null when it can. */
export function pathProblem(path: string): string | null {
  const parts = path.split("/").filter(Boolean);
  if (parts.length === 0) return "Enter a name.";
  if (parts.some((p) => p === "." || p === "..")) return "Names can't be “.” or “..”.";
  if (parts[0] === ".git") return "The .git folder is managed by E-Code.";
  if (/[\u0000\\]/.test(path)) return "Names can't contain “\\” or control characters.";
  return null;
}
