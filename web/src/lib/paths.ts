// Project paths are relative, "/"-separated, with no leading or trailing slash.

export function basename(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? path : path.slice(i + 1);
}

export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

export function joinPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/** Trims slashes and collapses repeats so "/src//a.js/" becomes "src/a.js". */
export function normalizePath(input: string): string {
  return input.trim().split("/").filter(Boolean).join("/");
}

/** True when path is ancestor itself or lies inside it. */
export function isWithin(path: string, ancestor: string): boolean {
  return path === ancestor || path.startsWith(`${ancestor}/`);
}

/** Rewrites path after ancestor moved from `from` to `to`; null when unaffected. */
export function rebase(path: string, from: string, to: string): string | null {
  if (!isWithin(path, from)) return null;
  return to + path.slice(from.length);
}

export function extension(path: string): string {
  const name = basename(path);
  const i = name.lastIndexOf(".");
  return i <= 0 ? "" : name.slice(i + 1).toLowerCase();
}
