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
  /** A platform administrator. */
  isAdmin: boolean;
}

/** What a password login answers: the user, or (user null) that the account's security key is asked next. */
export type LoginResult = { user: User } | { user: null; secondFactor: "webauthn"; username: string };

/** A security key or passkey registered to the account. */
export interface Passkey {
  /** The credential id, base64url. */
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** May be synced between devices (a passkey in a password manager). */
  backupEligible: boolean;
  /** Is synced now. */
  backedUp: boolean;
  /** Kept by the authenticator: logs in without a username or password. */
  discoverable: boolean;
  /** Once answered with a counter that had not moved forward, as a copied key would; that login was refused. */
  cloneWarning: boolean;
}

/** WebAuthn options as the server sends them; publicKey is what PublicKeyCredential.parse*OptionsFromJSON takes. */
export interface PasskeyCreationOptions {
  publicKey: PublicKeyCredentialCreationOptionsJSON;
}
export interface PasskeyRequestOptions {
  publicKey: PublicKeyCredentialRequestOptionsJSON;
}
/** A browser's credential, as PublicKeyCredential.toJSON() gives it. */
export type PasskeyCredentialJSON = Record<string, unknown>;

/** A login provider the operator enabled (GitHub, Google...). */
export interface AuthProvider {
  /** github, google, gitlab, bitbucket, discord, slack or azuread. */
  id: string;
  name: string;
}

/** An account at a provider, linked to the person's E-Code account. */
export interface LinkedIdentity {
  provider: string;
  providerName: string;
  /** The name the person goes by at the provider. */
  login: string;
  /** Verified at the provider, or "". */
  email: string;
  createdAt: number;
}

/** A project secret as listed; its value is read one at a time. */
export interface ProjectSecret {
  name: string;
  updatedBy: string;
  updatedAt: number;
}

/** One entry of the person's security log. */
export interface AuditEntry {
  seq: number;
  at: number;
  actorId: string;
  actor: string;
  action: string;
  target: string;
  ip: string;
  userAgent: string;
  details: string;
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
  /** The signed-in person's part in it; "" for a public project they aren't a member of. */
  role?: ProjectRole | "";
  /** Whether owner names a person or a team; servers before teams leave it out. */
  ownerKind?: "user" | "team";
}

/**
 * Owner: everything; admin: the same on a team's project (a team owner or admin);
 * editor: edits, runs, shells; viewer: watches live, changes nothing.
 */
export type ProjectRole = "owner" | "admin" | "editor" | "viewer";

/** Someone with access to a project. */
export interface Member {
  userId: string;
  username: string;
  role: ProjectRole;
  addedAt: number;
}

/** A link that makes whoever opens it (logged in) a member, until it expires. */
export interface Invite {
  id: string;
  role: "editor" | "viewer";
  expiresAt: number;
  createdAt: number;
  /** "/invite/TOKEN"; only in the answer that created it (the server keeps no copy of the secret). */
  url?: string;
}

/** What an invite link offers, as its page shows it. */
export interface InviteInfo {
  project: { owner: string; slug: string; name: string };
  role: "editor" | "viewer";
  invitedBy: string;
  expiresAt: number;
}

/** Owner > admin > member > viewer; see docs of the teams API. */
export type TeamRole = "owner" | "admin" | "member" | "viewer";

/** An account that owns projects, shared by its members. */
export interface Team {
  id: string;
  name: string;
  displayName: string;
  /** The signed-in person's role in it. */
  role: TeamRole;
  createdAt: number;
  /** "/@name" */
  url: string;
  members: number;
  projects: number;
}

export interface TeamMember {
  userId: string;
  username: string;
  role: TeamRole;
  addedAt: number;
}

/** A link that makes whoever opens it (logged in) a member of the team, until it expires. */
export interface TeamInvite {
  id: string;
  role: Exclude<TeamRole, "owner">;
  expiresAt: number;
  createdAt: number;
  /** "/team-invite/TOKEN"; only in the answer that created it. */
  url?: string;
}

/** What a team invite link offers, as its page shows it. */
export interface TeamInviteInfo {
  team: { name: string; displayName: string };
  role: Exclude<TeamRole, "owner">;
  invitedBy: string;
  expiresAt: number;
}

/** The networks a team's projects may be reached from (empty: anywhere), and where the caller is. */
export interface TeamAllowlist {
  allowlist: string[];
  yourIp: string;
}

/** Narrows a team's audit log; since and until are unix milliseconds. */
export interface TeamAuditFilter {
  actor?: string;
  action?: string;
  since?: number;
  until?: number;
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
const teamPath = (team: string) => `/api/teams/${encodeURIComponent(team)}`;

function teamAuditUrl(team: string, filter: TeamAuditFilter, format?: "csv" | "jsonl"): string {
  const params = new URLSearchParams();
  if (filter.actor) params.set("actor", filter.actor);
  if (filter.action) params.set("action", filter.action);
  if (filter.since !== undefined) params.set("since", String(filter.since));
  if (filter.until !== undefined) params.set("until", String(filter.until));
  if (format) params.set("format", format);
  const query = params.toString();
  return `${teamPath(team)}/audit${query ? `?${query}` : ""}`;
}

export const api = {
  // Auth
  signup: (username: string, email: string, password: string) =>
    request<{ user: User }>("POST", "/api/auth/signup", { json: { username, email, password } }).then((r) => r.user),
  login: (login: string, password: string) =>
    request<LoginResult>("POST", "/api/auth/login", { json: { login, password } }),
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

  // Security keys and passkeys (WebAuthn): each ceremony is a begin (the options for the browser)
  // and a finish (the browser's credential, as PublicKeyCredential.toJSON() gives it). See passkey/webauthn.ts.
  passkeys: () => request<{ passkeys: Passkey[] }>("GET", "/api/passkeys").then((r) => r.passkeys),
  beginPasskeyRegistration: (name: string) =>
    request<PasskeyCreationOptions>("POST", "/api/passkeys/register/begin", { json: { name } }),
  finishPasskeyRegistration: (credential: PasskeyCredentialJSON) =>
    request<{ passkey: Passkey }>("POST", "/api/passkeys/register/finish", { json: credential }).then((r) => r.passkey),
  renamePasskey: (id: string, name: string) =>
    request<{ passkey: Passkey }>("PATCH", `/api/passkeys/${encodeURIComponent(id)}`, { json: { name } }).then(
      (r) => r.passkey,
    ),
  /** 409 last_login_method or last_security_key when removing it would lock the person out. */
  deletePasskey: (id: string) => request<void>("DELETE", `/api/passkeys/${encodeURIComponent(id)}`),
  beginPasskeyLogin: () => request<PasskeyRequestOptions>("POST", "/api/auth/passkey/begin"),
  finishPasskeyLogin: (credential: PasskeyCredentialJSON) =>
    request<{ user: User }>("POST", "/api/auth/passkey/finish", { json: credential }).then((r) => r.user),
  /** For the login whose password was right and which owes a key (401 no_pending_login after 5 minutes). */
  beginSecondFactor: () => request<PasskeyRequestOptions>("POST", "/api/auth/second-factor/begin"),
  finishSecondFactor: (credential: PasskeyCredentialJSON) =>
    request<{ user: User }>("POST", "/api/auth/second-factor/finish", { json: credential }).then((r) => r.user),
  /** Turning it on needs a registered key (409 no_security_key). */
  setRequireKey: (required: boolean) =>
    request<{ user: User }>("PUT", "/api/auth/second-factor", { json: { required } }).then((r) => r.user),

  // Login providers (OAuth): start and callback are browser navigations, not fetches; their
  // errors come back as /login?error=CODE&provider=ID (or /settings?error=... while linking).
  providers: () => request<{ providers: AuthProvider[] }>("GET", "/api/auth/providers").then((r) => r.providers),
  /** Where to send the browser to log in (or, logged in, to link) with provider, then land on next. */
  providerStartUrl: (provider: string, opts: { next?: string; link?: boolean } = {}) => {
    const params = new URLSearchParams();
    if (opts.next && opts.next !== "/") params.set("next", opts.next);
    if (opts.link) params.set("link", "1");
    const query = params.toString();
    return `/api/auth/oauth/${encodeURIComponent(provider)}/start${query ? `?${query}` : ""}`;
  },
  /** canUnlink is false when one more removal would leave no way to log in. */
  identities: () => request<{ identities: LinkedIdentity[]; canUnlink: boolean }>("GET", "/api/auth/identities"),
  /** 409 last_login_method when it is the last way to log in. */
  unlinkIdentity: (provider: string) => request<void>("DELETE", `/api/auth/identities/${encodeURIComponent(provider)}`),
  /** Finishes a sign-up through a provider whose username was taken (401 no_pending_signup once it expired). */
  finishProviderSignup: (username: string) =>
    request<{ user: User; next: string }>("POST", "/api/auth/oauth/username", { json: { username } }),

  listSecrets: (id: string) =>
    request<{ secrets: ProjectSecret[] }>("GET", `${projectPath(id)}/secrets`).then((r) => r.secrets),
  /** The names of the team's secrets a team's project also gets (its own of the same name win). */
  listTeamSecretsOf: (id: string) =>
    request<{ teamSecrets: ProjectSecret[] }>("GET", `${projectPath(id)}/secrets`).then((r) => r.teamSecrets),
  revealSecret: (id: string, name: string) =>
    request<{ value: string }>("GET", `${projectPath(id)}/secrets/${encodeURIComponent(name)}`).then((r) => r.value),
  setSecret: (id: string, name: string, value: string) =>
    request<void>("PUT", `${projectPath(id)}/secrets/${encodeURIComponent(name)}`, { json: { value } }),
  deleteSecret: (id: string, name: string) =>
    request<void>("DELETE", `${projectPath(id)}/secrets/${encodeURIComponent(name)}`),

  auditLog: () => request<{ entries: AuditEntry[] }>("GET", "/api/user/audit").then((r) => r.entries),
  searchAudit: (query: string) =>
    request<{ entries: AuditEntry[] }>("GET", `/api/admin/audit?${query}`).then((r) => r.entries),
  verifyAudit: () =>
    request<{ intact: boolean; entries: number; brokenAt?: number; reason?: string }>("POST", "/api/admin/audit/verify"),

  // API tokens
  listTokens: () => request<{ tokens: Token[] }>("GET", "/api/tokens").then((r) => r.tokens),
  createToken: (name: string, expiresInDays?: number) =>
    request<CreatedToken>("POST", "/api/tokens", { json: { name, expiresInDays } }),
  revokeToken: (id: string) => request<void>("DELETE", `/api/tokens/${encodeURIComponent(id)}`),

  /** The person's key, or null while they have none. */
  sshKey: () => request<{ sshKey: SSHKey | null }>("GET", "/api/user/ssh-key").then((r) => r.sshKey),
  createSSHKey: () => request<{ sshKey: SSHKey }>("POST", "/api/user/ssh-key").then((r) => r.sshKey),
  deleteSSHKey: () => request<void>("DELETE", "/api/user/ssh-key"),

  // Projects
  templates: () => request<{ templates: Template[] }>("GET", "/api/templates").then((r) => r.templates),
  listProjects: () => request<{ projects: Project[] }>("GET", "/api/projects").then((r) => r.projects),
  /** From a template, or (with gitUrl) by cloning a git repository with its history. */
  createProject: (input: { name: string; template?: string; gitUrl?: string; visibility?: Visibility; owner?: string }) =>
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
  /** Moves a project to owner: the caller's username or one of their teams. */
  transferProject: (id: string, owner: string) =>
    request<{ project: Project }>("POST", `${projectPath(id)}/transfer`, { json: { owner } }).then((r) => r.project),
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

  // Members and invite links (invites are listed to the owner only)
  members: (id: string) => request<{ members: Member[]; invites?: Invite[] }>("GET", `${projectPath(id)}/members`),
  /** 404 user_not_found; 409 already_member. */
  addMember: (id: string, username: string, role: "editor" | "viewer") =>
    request<{ member: Member }>("POST", `${projectPath(id)}/members`, { json: { username, role } }).then((r) => r.member),
  setMemberRole: (id: string, userId: string, role: "editor" | "viewer") =>
    request<{ member: Member }>("PATCH", `${projectPath(id)}/members/${encodeURIComponent(userId)}`, {
      json: { role },
    }).then((r) => r.member),
  /** Also how a member leaves (their own userId). */
  removeMember: (id: string, userId: string) =>
    request<void>("DELETE", `${projectPath(id)}/members/${encodeURIComponent(userId)}`),
  createInvite: (id: string, role: "editor" | "viewer", expiresInHours: number) =>
    request<{ invite: Invite }>("POST", `${projectPath(id)}/invites`, { json: { role, expiresInHours } }).then(
      (r) => r.invite,
    ),
  revokeInvite: (id: string, inviteId: string) =>
    request<void>("DELETE", `${projectPath(id)}/invites/${encodeURIComponent(inviteId)}`),
  invite: (token: string) =>
    request<{ invite: InviteInfo }>("GET", `/api/invites/${encodeURIComponent(token)}`).then((r) => r.invite),
  /** 410 invite_expired. */
  acceptInvite: (token: string) =>
    request<{ project: Project }>("POST", `/api/invites/${encodeURIComponent(token)}/accept`).then((r) => r.project),

  // Teams: accounts that own projects, with members, invite links, secrets, an audit log and an IP allowlist.
  // Every team route answers 403 ip_not_allowed when the caller's address isn't on the team's allowlist.
  teams: () => request<{ teams: Team[] }>("GET", "/api/teams").then((r) => r.teams),
  /** The creator becomes its owner. */
  createTeam: (name: string, displayName?: string) =>
    request<{ team: Team }>("POST", "/api/teams", { json: { name, displayName } }).then((r) => r.team),
  team: (team: string) => request<{ team: Team }>("GET", teamPath(team)).then((r) => r.team),
  updateTeam: (team: string, patch: { displayName: string }) =>
    request<{ team: Team }>("PATCH", teamPath(team), { json: patch }).then((r) => r.team),
  /** Deletes its projects too; confirm is the team's name (400 confirm_mismatch). */
  deleteTeam: (team: string, confirm: string) => request<void>("DELETE", teamPath(team), { json: { confirm } }),
  teamProjects: (team: string) =>
    request<{ projects: Project[] }>("GET", `${teamPath(team)}/projects`).then((r) => r.projects),
  /** invites is empty unless the caller is an admin or owner. */
  teamMembers: (team: string) =>
    request<{ members: TeamMember[]; invites: TeamInvite[] }>("GET", `${teamPath(team)}/members`),
  /** 404 user_not_found; 409 already_member. */
  addTeamMember: (team: string, username: string, role: TeamRole) =>
    request<{ member: TeamMember }>("POST", `${teamPath(team)}/members`, { json: { username, role } }).then(
      (r) => r.member,
    ),
  /** 409 last_owner when it would leave the team without an owner. */
  setTeamMemberRole: (team: string, userId: string, role: TeamRole) =>
    request<{ member: TeamMember }>("PATCH", `${teamPath(team)}/members/${encodeURIComponent(userId)}`, {
      json: { role },
    }).then((r) => r.member),
  /** Also how a member leaves (their own userId); 409 last_owner. */
  removeTeamMember: (team: string, userId: string) =>
    request<void>("DELETE", `${teamPath(team)}/members/${encodeURIComponent(userId)}`),
  createTeamInvite: (team: string, role: TeamInvite["role"], expiresInHours: number) =>
    request<{ invite: TeamInvite }>("POST", `${teamPath(team)}/invites`, { json: { role, expiresInHours } }).then(
      (r) => r.invite,
    ),
  revokeTeamInvite: (team: string, inviteId: string) =>
    request<void>("DELETE", `${teamPath(team)}/invites/${encodeURIComponent(inviteId)}`),
  /** 404 invite_not_found; 410 invite_expired. */
  teamInvite: (token: string) =>
    request<{ invite: TeamInviteInfo }>("GET", `/api/team-invites/${encodeURIComponent(token)}`).then((r) => r.invite),
  acceptTeamInvite: (token: string) =>
    request<{ team: Team }>("POST", `/api/team-invites/${encodeURIComponent(token)}/accept`).then((r) => r.team),
  teamSecrets: (team: string) =>
    request<{ secrets: ProjectSecret[] }>("GET", `${teamPath(team)}/secrets`).then((r) => r.secrets),
  revealTeamSecret: (team: string, name: string) =>
    request<{ value: string }>("GET", `${teamPath(team)}/secrets/${encodeURIComponent(name)}`).then((r) => r.value),
  setTeamSecret: (team: string, name: string, value: string) =>
    request<void>("PUT", `${teamPath(team)}/secrets/${encodeURIComponent(name)}`, { json: { value } }),
  deleteTeamSecret: (team: string, name: string) =>
    request<void>("DELETE", `${teamPath(team)}/secrets/${encodeURIComponent(name)}`),
  teamAudit: (team: string, filter: TeamAuditFilter) =>
    request<{ entries: AuditEntry[] }>("GET", teamAuditUrl(team, filter)).then((r) => r.entries),
  /** The same entries as a download. */
  teamAuditExportUrl: (team: string, filter: TeamAuditFilter, format: "csv" | "jsonl") =>
    teamAuditUrl(team, filter, format),
  teamAllowlist: (team: string) => request<TeamAllowlist>("GET", `${teamPath(team)}/allowlist`),
  /** 400 invalid_cidr; 409 would_lock_out unless confirm, when the caller's own address isn't in the list. */
  setTeamAllowlist: (team: string, allowlist: string[], confirm?: boolean) =>
    request<TeamAllowlist>("PUT", `${teamPath(team)}/allowlist`, { json: { allowlist, ...(confirm && { confirm }) } }),

  health: () => request<{ status: string }>("GET", "/api/monitoring/health"),
};
