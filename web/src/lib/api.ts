// The one client for the E-Code HTTP API (see docs/openapi.yaml). Every call
// goes through request(), so errors always arrive as ApiError with the
// server's stable code and human message.

export interface User {
  id: string;
  username: string;
  email: string;
  createdAt: number;
  /** False for an account made through a provider: it can set one. */
  hasPassword: boolean;
  /** Logins need a security key after the password. */
  requireKey: boolean;
}

/** One place the person is logged in. */
export interface Session {
  id: string;
  ip: string;
  userAgent: string;
  browser: string;
  device: string;
  createdAt: number;
  lastSeen: number;
  current: boolean;
}

export type Visibility = "private" | "public";

export interface Project {
  id: string;
  owner: string;
  slug: string;
  name: string;
  url: string;
  visibility: Visibility;
  /** Internet mode: the sandbox may reach any public host, not only package registries. */
  internet: boolean;
  createdAt: number;
  updatedAt: number;
  canEdit: boolean;
}

export interface Token {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
}

export interface CreatedToken extends Partial<Token> {
  id: string;
  token: string;
}

/** The public half of the person's SSH key, for cloning over ssh://. */
export interface SSHKey {
  publicKey: string;
  fingerprint: string;
  createdAt: number;
}

export interface Template {
  id: string;
  name: string;
  description: string;
  /** javascript, typescript, python, go, html or text. */
  language: string;
  /** Short keywords shown as badges and matched by the search box. */
  tags?: string[];
}

export interface FileEntry {
  path: string;
  size: number;
  dir: boolean;
}

export interface SearchMatch {
  path: string;
  line: number;
  column: number;
  text: string;
}

/** What a run is doing; see docs/openapi.yaml. */
export type RunStatus = "starting" | "running" | "exited" | "crashed" | "stopped" | "failed";

export interface Run {
  id: string;
  status: RunStatus;
  command: string;
  exitCode: number | null;
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
  port: number | null;
  previewUrl: string | null;
  /** Why it crashed or could not start, in plain words. */
  error?: string;
}

/** A saved snapshot of a project's files. */
export interface Checkpoint {
  id: string;
  short: string;
  message: string;
  author: string;
  /** Unix milliseconds. */
  time: number;
}

/** What Run will do, and where that came from. */
export interface RunConfig {
  config: { run: string; install: string; build: string };
  source: "ecode.toml" | "guess" | "none";
}

/** Which AI model this server talks to; configured is false until an API key is set. */
export interface AIStatus {
  configured: boolean;
  model: string;
  provider: string;
}

/** Where an agent run stands: needs_input means it stopped to ask the person something (run.needsInput). */
export type AgentStatus = "running" | "done" | "stopped" | "failed" | "needs_input";

export interface AgentFileChange {
  path: string;
  change: "created" | "modified" | "deleted";
  /** Unified diff text. */
  diff: string;
}

/** The project's files as they were after a step (step 0: before the agent started). */
export interface AgentCheckpoint {
  hash: string;
  message: string;
  step: number;
}

/** One thing the agent did: words it wrote, or a tool it called. */
export interface AgentStep {
  /** 1-based, in order. */
  n: number;
  kind: "text" | "tool";
  /** kind text: the agent's words. */
  text?: string;
  /** kind tool: list_files, read_file, write_file, edit_file, delete_file, move_file, run_command, install_packages, start_app, check_app, finish. */
  tool?: string;
  input?: Record<string, unknown>;
  status?: "running" | "ok" | "error";
  /** What the tool returned to the model. */
  output?: string;
  files?: AgentFileChange[];
  /** The checkpoint made after this step, when it changed files. */
  checkpoint?: string;
  startedAt: number;
  durationMs?: number;
}

export interface AgentRun {
  id: string;
  projectId: string;
  prompt: string;
  status: AgentStatus;
  summary: string;
  features: string[];
  error: { code: string; message: string; retryable: boolean } | null;
  /** What the agent asks the person; "" unless status is needs_input. */
  needsInput: string;
  /** Present in GET one run and in the socket snapshot; the list leaves them out. */
  steps?: AgentStep[];
  tokensIn: number;
  tokensOut: number;
  noProgress: boolean;
  checkpoints: AgentCheckpoint[];
  model: string;
  createdAt: number;
  finishedAt: number | null;
}

/** A change to the project's agent runs, as the socket tells it. */
export type AgentEvent =
  | { kind: "run"; run: AgentRun }
  | { kind: "step"; runId: string; step: AgentStep }
  | { kind: "text"; runId: string; n: number; delta: string };

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

/** The message to show a person for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return "Something went wrong. Please try again.";
}

interface RequestOptions {
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

async function send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...opts.headers };
  let body = opts.body;
  if (opts.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(opts.json);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, credentials: "same-origin", signal: opts.signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "network_error", "Can't reach the E-Code server. Check your connection and try again.");
  }
  if (!res.ok) throw await toApiError(res);
  return res;
}

async function toApiError(res: Response): Promise<ApiError> {
  try {
    const data: unknown = await res.json();
    if (isErrorBody(data)) return new ApiError(res.status, data.error.code, data.error.message);
  } catch {
    // Not JSON (a proxy's error page, say): fall through to a generic message.
  }
  const retry = res.headers.get("Retry-After");
  if (res.status === 429) {
    return new ApiError(429, "rate_limited", `Too many attempts. Try again${retry ? ` in ${retry} seconds` : " later"}.`);
  }
  return new ApiError(res.status, `http_${res.status}`, `The server answered ${res.status} ${res.statusText}.`.trim());
}

function isErrorBody(v: unknown): v is { error: { code: string; message: string } } {
  if (typeof v !== "object" || v === null || !("error" in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

async function request<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
  const res = await send(method, path, opts);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Encodes a project-relative path segment by segment for use in a URL. */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

const projectPath = (id: string) => `/api/projects/${encodeURIComponent(id)}`;
const filePath = (id: string, path: string) => `${projectPath(id)}/files/${encodePath(path)}`;

export const api = {
  // Auth
  signup: (username: string, email: string, password: string) =>
    request<{ user: User }>("POST", "/api/auth/signup", { json: { username, email, password } }).then((r) => r.user),
  login: (login: string, password: string) =>
    request<{ user: User }>("POST", "/api/auth/login", { json: { login, password } }).then((r) => r.user),
  logout: () => request<void>("POST", "/api/auth/logout"),
  /** The signed-in user, or null when the visitor is signed out. */
  me: async (): Promise<User | null> => {
    try {
      return (await request<{ user: User }>("GET", "/api/auth/me")).user;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return null;
      throw err;
    }
  },

  updateMe: (change: { username?: string; email?: string; currentPassword?: string }) =>
    request<{ user: User }>("PATCH", "/api/auth/me", { json: change }).then((r) => r.user),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<void>("POST", "/api/auth/password", { json: { currentPassword, newPassword } }),
  deleteAccount: (confirm: string, password: string) =>
    request<void>("DELETE", "/api/auth/me", { json: { confirm, password } }),
  sessions: () => request<{ sessions: Session[] }>("GET", "/api/auth/sessions").then((r) => r.sessions),
  endSession: (id: string) => request<void>("DELETE", `/api/auth/sessions/${encodeURIComponent(id)}`),
  endOtherSessions: () => request<void>("DELETE", "/api/auth/sessions"),

  // API tokens
  listTokens: () => request<{ tokens: Token[] }>("GET", "/api/tokens").then((r) => r.tokens),
  createToken: (name: string, expiresInDays?: number) =>
    request<CreatedToken>("POST", "/api/tokens", { json: { name, expiresInDays } }),
  revokeToken: (id: string) => request<void>("DELETE", `/api/tokens/${encodeURIComponent(id)}`),

  sshKey: async (): Promise<SSHKey | null> => {
    try {
      return (await request<{ sshKey: SSHKey }>("GET", "/api/user/ssh-key")).sshKey;
    } catch (err) {
      if (err instanceof ApiError && err.code === "no_ssh_key") return null;
      throw err;
    }
  },
  createSSHKey: () => request<{ sshKey: SSHKey }>("POST", "/api/user/ssh-key").then((r) => r.sshKey),
  deleteSSHKey: () => request<void>("DELETE", "/api/user/ssh-key"),

  // Projects
  templates: () => request<{ templates: Template[] }>("GET", "/api/templates").then((r) => r.templates),
  listProjects: () => request<{ projects: Project[] }>("GET", "/api/projects").then((r) => r.projects),
  /** From a template, or (with gitUrl) by cloning a git repository with its history. */
  createProject: (input: { name: string; template?: string; gitUrl?: string; visibility?: Visibility }) =>
    request<{ project: Project }>("POST", "/api/projects", { json: input }).then((r) => r.project),
  updateProject: (id: string, patch: { name?: string; visibility?: Visibility; internet?: boolean }) =>
    request<{ project: Project }>("PATCH", projectPath(id), { json: patch }).then((r) => r.project),
  deleteProject: (id: string) => request<void>("DELETE", projectPath(id)),
  projectBySlug: (owner: string, slug: string) =>
    request<{ project: Project }>(
      "GET",
      `/api/users/${encodeURIComponent(owner)}/projects/${encodeURIComponent(slug)}`,
    ).then((r) => r.project),

  // Files
  listFiles: (id: string) => request<{ files: FileEntry[]; truncated: boolean }>("GET", `${projectPath(id)}/files`),
  readFile: async (id: string, path: string, signal?: AbortSignal): Promise<ArrayBuffer> =>
    (await send("GET", filePath(id, path), { signal, headers: { Accept: "*/*" } })).arrayBuffer(),
  writeFile: (id: string, path: string, content: BodyInit) =>
    request<void>("PUT", filePath(id, path), {
      body: content,
      headers: { "Content-Type": "application/octet-stream" },
    }),
  deleteFile: (id: string, path: string) => request<void>("DELETE", filePath(id, path)),
  mkdir: (id: string, path: string) => request<void>("POST", `${projectPath(id)}/mkdir`, { json: { path } }),
  move: (id: string, from: string, to: string) =>
    request<void>("POST", `${projectPath(id)}/move`, { json: { from, to } }),
  upload: (id: string, files: File[], dir?: string) => {
    const form = new FormData();
    if (dir) form.append("dir", dir);
    for (const f of files) form.append("files", f, f.webkitRelativePath || f.name);
    return request<{ files: FileEntry[] }>("POST", `${projectPath(id)}/upload`, { body: form }).then((r) => r.files);
  },
  zipUrl: (id: string) => `${projectPath(id)}/zip`,
  fileUrl: filePath,
  search: (id: string, q: string, caseSensitive: boolean, signal?: AbortSignal) => {
    const params = new URLSearchParams({ q });
    if (caseSensitive) params.set("case", "1");
    return request<{ matches: SearchMatch[]; truncated: boolean }>("GET", `${projectPath(id)}/search?${params}`, {
      signal,
    });
  },

  // Runs (a 503 with code sandbox_unavailable says how to fix the host)
  runConfig: (id: string) => request<RunConfig>("GET", `${projectPath(id)}/run-config`),
  startRun: (id: string) => request<{ run: Run }>("POST", `${projectPath(id)}/run`).then((r) => r.run),
  stopRun: (id: string) => request<void>("POST", `${projectPath(id)}/stop`),
  runs: (id: string) => request<{ runs: Run[]; current: Run | null }>("GET", `${projectPath(id)}/runs`),
  /** The project's one WebSocket (see lib/socket.ts). */
  socketUrl: (id: string) => {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${window.location.host}${projectPath(id)}/ws`;
  },

  // History (checkpoints) and forks
  history: (id: string) =>
    request<{ checkpoints: Checkpoint[] }>("GET", `${projectPath(id)}/history`).then((r) => r.checkpoints),
  /** changed is false when nothing changed since the last checkpoint. */
  createCheckpoint: (id: string, message: string) =>
    request<{ checkpoint: Checkpoint; changed: boolean }>("POST", `${projectPath(id)}/checkpoints`, { json: { message } }),
  /** Makes the files what they were at checkpoint, as a new checkpoint on top. */
  restore: (id: string, checkpoint: string) =>
    request<{ checkpoint: Checkpoint }>("POST", `${projectPath(id)}/restore`, { json: { checkpoint } }).then(
      (r) => r.checkpoint,
    ),
  fork: (id: string, name?: string) =>
    request<{ project: Project }>("POST", `${projectPath(id)}/fork`, { json: { name } }).then((r) => r.project),

  // AI: the agent (a 503 with code ai_not_configured says how to set it up) and inline completion
  aiStatus: () => request<AIStatus>("GET", "/api/ai/status"),
  /** Starts the agent on prompt; 409 agent_busy while another run is going on the project. */
  startAgentRun: (id: string, prompt: string) =>
    request<{ run: AgentRun }>("POST", `${projectPath(id)}/agent/runs`, { json: { prompt } }).then((r) => r.run),
  /** Newest first, without their steps. */
  agentRuns: (id: string) =>
    request<{ runs: AgentRun[] }>("GET", `${projectPath(id)}/agent/runs`).then((r) => r.runs),
  agentRun: (id: string, runId: string) =>
    request<{ run: AgentRun }>("GET", `${projectPath(id)}/agent/runs/${encodeURIComponent(runId)}`).then((r) => r.run),
  stopAgentRun: (id: string, runId: string) =>
    request<void>("POST", `${projectPath(id)}/agent/runs/${encodeURIComponent(runId)}/stop`),
  /** What the model would write at the cursor, given the text around it. */
  complete: (id: string, input: { path: string; prefix: string; suffix: string }, signal?: AbortSignal) =>
    request<{ completion: string }>("POST", `${projectPath(id)}/complete`, { json: input, signal }).then(
      (r) => r.completion,
    ),

  health: () => request<{ status: string }>("GET", "/api/monitoring/health"),
};
