// The one client for the E-Code HTTP API. Every call goes through request(),
// so errors always arrive as ApiError with the server's stable code and human
// message. The types are docs/openapi.yaml's (schema.gen.ts, from npm run
// gen:api): where the spec and the UI disagree, the typecheck fails.

import type { components, paths } from "./schema.gen";

type Schemas = components["schemas"];

export type User = Schemas["User"];
/** What a password login answers: the user, or (user null) that the account's security key is asked next. */
export type LoginResult = Schemas["LoginResult"];

/** A security key or passkey registered to the account. */
export type Passkey = Schemas["Passkey"];

/** WebAuthn options as the server sends them; publicKey is what PublicKeyCredential.parse*OptionsFromJSON takes. */
export interface PasskeyCreationOptions {
  publicKey: PublicKeyCredentialCreationOptionsJSON;
}
export interface PasskeyRequestOptions {
  publicKey: PublicKeyCredentialRequestOptionsJSON;
}
/** A browser's credential, as PublicKeyCredential.toJSON() gives it. */
export type PasskeyCredentialJSON = Record<string, unknown>;

/** Whether this server offers passkeys, and at which origin. */
export type PasskeyAvailability = Schemas["PasskeyAvailability"];

/** A login provider the operator enabled (GitHub, Google...). */
export type AuthProvider = Schemas["AuthProvider"];
/** An account at a provider, linked to the person's E-Code account. */
export type LinkedIdentity = Schemas["LinkedIdentity"];

/** A project or team secret as listed; its value is read one at a time. */
export type ProjectSecret = Schemas["Secret"];
/** One entry of the audit log. */
export type AuditEntry = Schemas["AuditEntry"];
/** Memory, CPU, processes and disk of a project's sandbox, and the GPU it asks for. */
export type Resources = Schemas["Resources"];

/**
 * What a project or deployment asks for as its GPU: "" none, "any", "whole" (a whole GPU, never a
 * MIG slice) or "mig-<profile>" ("mig-1g.10gb").
 */
export type GpuWant = NonNullable<Resources["gpu"]>;
/** The kinds of GPU a project or deployment may ask for; none, with reason saying why, when it may ask for none. */
export type GpuOffer = Schemas["GPUOffer"];
/** The project's own resource choices; null takes the platform's default (for gpu: none). */
export type ResourceChoice = Schemas["ResourceChoice"];
/** A project's resources with the platform's defaults and the administrator's ceilings, and the GPUs it may ask for. */
export type ResourceSettings = Schemas["ResourceSettings"];
/** Whether the project's sandbox runs, the limits its cgroup holds it to, and its GPU (absent when it wants none). */
export type SandboxStatus = Schemas["SandboxStatus"];
/** The GPU a sandbox holds or waits for. */
export type SandboxGpu = NonNullable<SandboxStatus["gpu"]>;

/** The GPUs the server found, and how its pool shares them out (queue: first in line first). For site administrators. */
export type AdminGpus = paths["/api/admin/gpus"]["get"]["responses"]["200"]["content"]["application/json"];
/** One physical GPU; in MIG mode only its slices are handed out. */
export type GpuDevice = Schemas["GPUDevice"];
/** A unit of the pool (a whole GPU or a MIG slice), and who holds it since when, if anyone. */
export type GpuUnitState = Schemas["GPUUnit"];
/** One owner waiting in line for a unit. */
export type GpuWaiting = Schemas["GPUWaiting"];
/** One place the person is logged in. */
export type Session = Schemas["Session"];

export type Project = Schemas["Project"];
/** A project as the dashboard lists it: with its language, last edit and whether it runs. */
export type ListedProject = Schemas["ListedProject"];
export type Visibility = Project["visibility"];
/**
 * Owner: everything; admin: the same on a team's project (a team owner or admin);
 * editor: edits, runs, shells; viewer: watches live, changes nothing.
 */
export type ProjectRole = Exclude<Project["role"], "">;
/** Someone with access to a project. */
export type Member = Schemas["Member"];
/** A link that makes whoever opens it (logged in) a member, until it expires. */
export type Invite = Schemas["Invite"];
/** What an invite link offers, as its page shows it. */
export type InviteInfo = Schemas["InviteInfo"];

/** An account that owns projects, shared by its members. */
export type Team = Schemas["Team"];
/** Owner > admin > member > viewer; see docs of the teams API. */
export type TeamRole = Team["role"];
export type TeamMember = Schemas["TeamMember"];
/** A link that makes whoever opens it (logged in) a member of the team, until it expires. */
export type TeamInvite = Schemas["TeamInvite"];
/** What a team invite link offers, as its page shows it. */
export type TeamInviteInfo = Schemas["TeamInviteInfo"];
/** The networks a team's projects may be reached from (empty: anywhere), and where the caller is. */
export type TeamAllowlist = Schemas["Allowlist"];
/** Narrows a team's audit log; since and until are unix milliseconds. */
export type TeamAuditFilter = Pick<
  NonNullable<paths["/api/teams/{team}/audit"]["get"]["parameters"]["query"]>,
  "actor" | "action" | "since" | "until"
>;

export type Token = Schemas["Token"];
export type CreatedToken = Schemas["CreatedToken"];
/** A device login (ecode login) waiting for its person to approve or deny it. */
export type DeviceRequest = Schemas["DeviceRequest"];
/** The public half of the person's SSH key, for cloning over ssh://. */
export type SSHKey = Schemas["SSHKey"];

export type Template = Schemas["Template"];
export type FileEntry = Schemas["FileEntry"];
export type SearchMatch = Schemas["SearchMatch"];

export type Run = Schemas["Run"];
/** What a run is doing; see docs/openapi.yaml. */
export type RunStatus = Run["status"];
/** A saved snapshot of a project's files. */
export type Checkpoint = Schemas["Checkpoint"];
/** What changed at a checkpoint, against the one before or another. */
export type CheckpointDiff = Schemas["CheckpointDiff"];
/** What Run will do, and where that came from. */
export type RunConfig = Schemas["RunConfig"];

/** Which AI model this server talks to; configured is false until an API key is set. */
export type AIStatus = Schemas["AIStatus"];
export type AgentRun = Schemas["AgentRun"];
/** Where an agent run stands: needs_input means it stopped to ask the person something (run.needsInput). */
export type AgentStatus = AgentRun["status"];
export type AgentStep = Schemas["AgentStep"];
/** A file that differs between two checkpoints: created, modified, deleted or renamed. */
export type FileChange = Schemas["FileChange"];
export type AgentFileChange = FileChange;
/** The project's files as they were after a step (step 0: before the agent started). */
export type AgentCheckpoint = Schemas["AgentCheckpoint"];

/**
 * The [deployment] table of the project's ecode.toml (with its defaults filled when read), and what
 * a deploy does with it: install, serves and gpuKinds are read-only, ignored when sent back.
 */
export type DeploymentConfig = Schemas["DeploymentConfig"];
/** What kind of deployment: static files, an autoscaled app, always-on instances (vm), or a scheduled job. */
export type DeployTarget = NonNullable<DeploymentConfig["target"]>;
/** One build of the project, from a checkpoint (commit, empty while queued) into an immutable release. */
export type Release = Schemas["Release"];
/** Where the project is deployed and which release answers there. */
export type Deployment = Schemas["Deployment"];
/** The deployment (null until a release first goes live), its releases newest first, and the settings or what is wrong with them. */
export type DeploymentState =
  paths["/api/projects/{id}/deployment"]["get"]["responses"]["200"]["content"]["application/json"];
/** One run of a scheduled deployment: on its schedule or Run now, how it ended. */
export type Execution = Schemas["Execution"];
/** A live scheduled deployment's schedule, in cron and in words, and when it next runs. */
export type Schedule = Schemas["Schedule"];
/** One running copy of an autoscale or vm deployment's live release, behind the edge. */
export type Instance = Schemas["Instance"];
/** What an autoscale or vm deployment aims at: its bounds, the instances wanted now, whether it crash-loops. */
export type Scale = Schemas["Scale"];
/** One step of the edge's counts for a deployment's traffic. */
export type MetricPoint = Schemas["MetricPoint"];
type MetricsQuery = NonNullable<paths["/api/projects/{id}/deployment/metrics"]["get"]["parameters"]["query"]>;
export type MetricsWindow = NonNullable<MetricsQuery["window"]>;
/** A line of a deployment's runtime log: an instance's output, the edge's access line, or the platform's note. */
export type LogLine = Schemas["LogLine"];
/** A project's failure webhook: where failed scheduled runs and builds are posted, signed. */
export type Webhook = Schemas["Webhook"];
/** One event posted to a webhook, as its last try left it. */
export type WebhookDelivery = Schemas["WebhookDelivery"];
/** A custom domain of a project: the DNS record that points it here, its proof, and its certificate. */
export type CustomDomain = Schemas["Domain"];
/** The deployment's environment: its overrides, and the project's and team's secrets it inherits (names only). */
export type DeploymentEnv = paths["/api/projects/{id}/deployment/env"]["get"]["responses"]["200"]["content"]["application/json"];
/** Narrows the runtime log: text to hold, whose lines, and lines older than a seq (paging back). */
export type LogQuery = NonNullable<paths["/api/projects/{id}/deployment/logs"]["get"]["parameters"]["query"]>;

/** A change to the project's agent runs, as the socket tells it. */
export type AgentEvent =
  | { kind: "run"; run: AgentRun }
  | { kind: "step"; runId: string; step: AgentStep }
  | { kind: "text"; runId: string; n: number; delta: string };

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The error object as the server sent it, with any fields beyond code and message. */
  readonly body?: Readonly<Record<string, unknown>>;

  constructor(status: number, code: string, message: string, body?: Readonly<Record<string, unknown>>) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
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

export interface RequestOptions {
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
    if (isErrorBody(data)) return new ApiError(res.status, data.error.code, data.error.message, data.error);
  } catch {
    // Not JSON (a proxy's error page, say): fall through to a generic message.
  }
  const retry = res.headers.get("Retry-After");
  if (res.status === 429) {
    return new ApiError(429, "rate_limited", `Too many attempts. Try again${retry ? ` in ${retry} seconds` : " later"}.`);
  }
  return new ApiError(res.status, `http_${res.status}`, `The server answered ${res.status} ${res.statusText}.`.trim());
}

function isErrorBody(v: unknown): v is { error: { code: string; message: string } & Record<string, unknown> } {
  if (typeof v !== "object" || v === null || !("error" in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

/** Sends a request and answers its JSON body (undefined for 204); a refusal throws ApiError. */
export async function request<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
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

function deploymentLogsUrl(id: string, query: LogQuery): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const q = params.toString();
  return `${projectPath(id)}/deployment/logs${q ? `?${q}` : ""}`;
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
  passkeyAvailability: () => request<PasskeyAvailability>("GET", "/api/auth/passkey"),
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

  resources: (id: string) =>
    request<{ resources: ResourceSettings }>("GET", `${projectPath(id)}/resources`).then((r) => r.resources),
  setResources: (id: string, choice: ResourceChoice) =>
    request<{ resources: ResourceSettings }>("PUT", `${projectPath(id)}/resources`, { json: choice }).then((r) => r.resources),
  sandbox: (id: string) => request<{ sandbox: SandboxStatus }>("GET", `${projectPath(id)}/sandbox`).then((r) => r.sandbox),
  restartSandbox: (id: string) =>
    request<{ sandbox: SandboxStatus }>("POST", `${projectPath(id)}/sandbox/restart`).then((r) => r.sandbox),

  auditLog: () => request<{ entries: AuditEntry[] }>("GET", "/api/user/audit").then((r) => r.entries),
  searchAudit: (query: string) =>
    request<{ entries: AuditEntry[] }>("GET", `/api/admin/audit?${query}`).then((r) => r.entries),
  verifyAudit: () =>
    request<{ intact: boolean; entries: number; brokenAt?: number; reason?: string }>("POST", "/api/admin/audit/verify"),
  /** The server's GPUs, their holders and the line for them. */
  adminGpus: () => request<AdminGpus>("GET", "/api/admin/gpus"),

  // API tokens
  listTokens: () => request<{ tokens: Token[] }>("GET", "/api/tokens").then((r) => r.tokens),
  createToken: (name: string, expiresInDays?: number) =>
    request<CreatedToken>("POST", "/api/tokens", { json: { name, expiresInDays } }),
  revokeToken: (id: string) => request<void>("DELETE", `/api/tokens/${encodeURIComponent(id)}`),
  /** The device login waiting for a user code, as the terminal shows it. 404 unknown_user_code; 429 after many wrong codes. */
  deviceLogin: (code: string) => request<DeviceRequest>("GET", `/api/auth/device?code=${encodeURIComponent(code)}`),
  /** Approving gives the device an API token for this account, listed with the others. */
  decideDeviceLogin: (userCode: string, approve: boolean) =>
    request<void>("POST", "/api/auth/device/approve", { json: { userCode, approve } }),

  /** The person's key, or null while they have none. */
  sshKey: () => request<{ sshKey: SSHKey | null }>("GET", "/api/user/ssh-key").then((r) => r.sshKey),
  createSSHKey: () => request<{ sshKey: SSHKey }>("POST", "/api/user/ssh-key").then((r) => r.sshKey),
  deleteSSHKey: () => request<void>("DELETE", "/api/user/ssh-key"),

  // Projects
  templates: () => request<{ templates: Template[] }>("GET", "/api/templates").then((r) => r.templates),
  listProjects: () => request<{ projects: ListedProject[] }>("GET", "/api/projects").then((r) => r.projects),
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
  /** What changed at checkpoint: against the checkpoint before it, or against another. */
  checkpointDiff: (id: string, checkpoint: string, against?: string) =>
    request<CheckpointDiff>(
      "GET",
      `${projectPath(id)}/history/${checkpoint}/diff${against ? `?against=${encodeURIComponent(against)}` : ""}`,
    ),
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

  // Deployments: each deploy queues a release, built in a fresh sandbox from a checkpoint.
  deployment: (id: string) => request<DeploymentState>("GET", `${projectPath(id)}/deployment`),
  /** 400 invalid_deployment, whose message names the key ("[deployment] publicDir: ..."). */
  saveDeploymentConfig: (id: string, config: DeploymentConfig) =>
    request<{ config: DeploymentConfig }>("PUT", `${projectPath(id)}/deployment/config`, { json: config }).then(
      (r) => r.config,
    ),
  /** While a release waits for the one building, asking again answers the waiting one. */
  deploy: (id: string) =>
    request<{ release: Release }>("POST", `${projectPath(id)}/deployments`, { json: {} }).then((r) => r.release),
  /** Server-sent events: "log" (output as it comes), then "status" (the release as it ended). */
  releaseLogUrl: (id: string, releaseId: string) => `${projectPath(id)}/releases/${encodeURIComponent(releaseId)}/log`,
  /** Makes a ready release the live one; the answer's previousReleaseId is what was live before. */
  promote: (id: string, releaseId: string) =>
    request<{ deployment: Deployment }>("POST", `${projectPath(id)}/releases/${encodeURIComponent(releaseId)}/promote`).then(
      (r) => r.deployment,
    ),
  /** Ends a queued or building release (failed, "Cancelled by …"); answers once it has ended. 409 release_not_active. */
  cancelRelease: (id: string, releaseId: string) =>
    request<{ release: Release }>("POST", `${projectPath(id)}/releases/${encodeURIComponent(releaseId)}/cancel`).then(
      (r) => r.release,
    ),

  /** The scheduled deployment's runs, newest first, and its live schedule (null when not scheduled). */
  executions: (id: string) =>
    request<{ executions: Execution[]; schedule: Schedule | null }>("GET", `${projectPath(id)}/deployment/executions`),
  executionLog: (id: string, executionId: string) =>
    request<{ execution: Execution; log: string }>(
      "GET",
      `${projectPath(id)}/deployment/executions/${encodeURIComponent(executionId)}/log`,
    ),
  /** 409 execution_running while a run is going: runs never overlap. */
  runNow: (id: string) =>
    request<{ execution: Execution }>("POST", `${projectPath(id)}/deployment/run`, { json: {} }).then((r) => r.execution),
  /** An autoscale or vm deployment's instances and scaling (none for the other types). */
  instances: (id: string) => request<{ instances: Instance[]; scale: Scale }>("GET", `${projectPath(id)}/deployment/instances`),
  /** The edge's counts over the window, oldest first, a point per stepMs (zeros where there was no traffic). */
  metrics: (id: string, window: MetricsWindow) =>
    request<{ stepMs: number; points: MetricPoint[] }>("GET", `${projectPath(id)}/deployment/metrics?window=${window}`),
  /** The runtime log, newest last. */
  deploymentLogs: (id: string, query: LogQuery) =>
    request<{ lines: LogLine[] }>("GET", deploymentLogsUrl(id, query)).then((r) => r.lines),
  /** Server-sent events: the matching lines so far, then each new one, each a "line" event with a LogLine. */
  deploymentLogsUrl: (id: string, query: LogQuery) => deploymentLogsUrl(id, query),
  deploymentEnv: (id: string) => request<DeploymentEnv>("GET", `${projectPath(id)}/deployment/env`),
  revealDeploymentEnv: (id: string, name: string) =>
    request<{ value: string }>("GET", `${projectPath(id)}/deployment/env/${encodeURIComponent(name)}`).then((r) => r.value),
  setDeploymentEnv: (id: string, name: string, value: string) =>
    request<void>("PUT", `${projectPath(id)}/deployment/env/${encodeURIComponent(name)}`, { json: { value } }),
  deleteDeploymentEnv: (id: string, name: string) =>
    request<void>("DELETE", `${projectPath(id)}/deployment/env/${encodeURIComponent(name)}`),
  webhook: (id: string) =>
    request<{ webhook: Webhook | null; deliveries: WebhookDelivery[] }>("GET", `${projectPath(id)}/deployment/webhook`),
  /** The signing secret comes back the first time, or with rotateSecret: the one time it is shown. 400 invalid_webhook_url. */
  setWebhook: (id: string, url: string, rotateSecret = false) =>
    request<{ webhook: Webhook; secret: string | null }>("PUT", `${projectPath(id)}/deployment/webhook`, {
      json: { url, rotateSecret },
    }),
  deleteWebhook: (id: string) => request<void>("DELETE", `${projectPath(id)}/deployment/webhook`),
  /** Posts one webhook.test event now and answers how it went. */
  testWebhook: (id: string) =>
    request<{ delivery: WebhookDelivery }>("POST", `${projectPath(id)}/deployment/webhook/test`, { json: {} }).then(
      (r) => r.delivery,
    ),

  // Custom domains
  domains: (id: string) => request<{ domains: CustomDomain[] }>("GET", `${projectPath(id)}/domains`).then((r) => r.domains),
  /** 400 invalid_domain; 409 domain_taken. */
  addDomain: (id: string, name: string) =>
    request<{ domain: CustomDomain }>("POST", `${projectPath(id)}/domains`, { json: { name } }).then((r) => r.domain),
  /** The server fetches the proof from the name now; 409 domain_unverified says what it saw. */
  verifyDomain: (id: string, domainId: string) =>
    request<{ domain: CustomDomain }>("POST", `${projectPath(id)}/domains/${encodeURIComponent(domainId)}/verify`, {
      json: {},
    }).then((r) => r.domain),
  removeDomain: (id: string, domainId: string) =>
    request<void>("DELETE", `${projectPath(id)}/domains/${encodeURIComponent(domainId)}`),

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
