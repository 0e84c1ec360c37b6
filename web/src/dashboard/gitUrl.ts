// Checks on a git repository address typed into the New project dialog. The
// server has the last word (it answers invalid_git_url, repo_not_found, ...);
// these only catch what is plainly not an address before a round trip.

const urlPattern = /^(https|ssh):\/\/(?:[^\s/@]+@)?([^\s/:@]+)(?::\d{1,5})?(\/\S*)$/i;
/** git's short ssh form: [user@]host:owner/repo.git */
const scpPattern = /^(?:[\w.-]+@)?([\w.-]+):([^/\s]\S*)$/;

interface GitUrl {
  host: string;
  /** The path without leading or trailing slashes, e.g. "owner/repo.git". */
  path: string;
}

function parse(raw: string): GitUrl | null {
  const scp = raw.includes("://") ? null : scpPattern.exec(raw.trim());
  if (scp) return { host: scp[1], path: scp[2].replace(/\/+$/, "") };
  const m = urlPattern.exec(raw.trim());
  if (!m) return null;
  const path = m[3].replace(/^\/+|\/+$/g, "");
  if (!path) return null;
  return { host: m[2], path };
}

/** Why the address can't be a git repository's, in plain words; null when it looks right. */
export function gitUrlProblem(raw: string): string | null {
  const v = raw.trim();
  if (!v) return "Paste the address of the git repository to import.";
  if (/\s/.test(v)) return "An address has no spaces in it. Check what you pasted.";
  if (!v.includes("://") && scpPattern.test(v)) return null;
  if (/^http:\/\//i.test(v)) return "Use the repository's https:// address; plain http:// isn't supported.";
  if (!/^(https|ssh):\/\//i.test(v)) {
    return "Enter an address that starts with https:// or ssh://, like https://github.com/owner/repo.git.";
  }
  if (!parse(v)) return "Add the repository's path after the host, like https://github.com/owner/repo.git.";
  return null;
}

/** The repository's name from its address ("https://host/owner/my-repo.git" → "my-repo"), or "". */
export function repoNameFromUrl(raw: string): string {
  const url = parse(raw);
  if (!url) return "";
  let last = url.path.split("/").pop() ?? "";
  last = last.replace(/[?#].*$/, "").replace(/\.git$/i, "");
  try {
    last = decodeURIComponent(last);
  } catch {
    // Keep it as typed.
  }
  return last.slice(0, 64);
}

/** Whether the address is cloned over ssh, with the person's SSH key. */
export function isSSHUrl(raw: string): boolean {
  const v = raw.trim();
  return /^ssh:\/\//i.test(v) || (!v.includes("://") && scpPattern.test(v));
}

/** A short form to show while cloning: "github.com/owner/repo". */
export function displayGitUrl(raw: string): string {
  const url = parse(raw);
  return url ? `${url.host}/${url.path.replace(/\.git$/i, "")}` : raw.trim();
}
