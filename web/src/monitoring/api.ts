// The monitoring dashboards' routes: a deployment's (under its project) and the platform's own (admins).
// The types are docs/openapi.yaml's.

import { ApiError, request } from "@/lib/api";
import type { components, paths } from "@/lib/schema.gen";
import { replayApi, type ReplaySummary } from "./replay/api";

type Schemas = components["schemas"];

/** A project ID (its deployment), or the platform's own UI and API. */
export type Scope = { project: string } | "platform";

export type Overview = Schemas["MonitorOverview"];
export type Range = Overview["range"];
/** A route as the edge counted it (method and normalised path). */
export type RouteStats = Overview["routes"][number];
/** A request the page made that failed (status 0: the network failed). */
export type FailedRequest = Overview["failedRequests"][number];
/** A Web Vital over the range: its p75, how many page views fell in each rating, and where the ratings change. */
export type Vital = Overview["vitals"][number];
export type VitalName = Vital["name"];

export type ErrorStatus = Schemas["ErrorStatus"];
/** Errors alike (the same fingerprint) counted together. */
export type ErrorGroup = Schemas["ErrorGroup"];
type ErrorDetail = paths["/api/projects/{id}/monitoring/errors/{fingerprint}"]["get"]["responses"]["200"]["content"]["application/json"];
export type ErrorOccurrence = ErrorDetail["occurrences"][number];

/** How the deployment's pages are monitored, and what to put in pages hosted elsewhere. */
export type MonitoringSettings = Schemas["MonitorSettings"];
export type SettingsChange = paths["/api/projects/{id}/monitoring"]["put"]["requestBody"]["content"]["application/json"];

const base = (scope: Scope) =>
  scope === "platform" ? "/api/monitoring/platform" : `/api/projects/${encodeURIComponent(scope.project)}/monitoring`;
const errorPath = (scope: Scope, fingerprint: string) => `${base(scope)}/errors/${encodeURIComponent(fingerprint)}`;

export const monitoringApi = {
  overview: (scope: Scope, range: Range) => request<Overview>("GET", `${base(scope)}/overview?range=${range}`),
  errors: (scope: Scope, range: Range, status: ErrorStatus | "all") =>
    request<{ groups: ErrorGroup[] }>("GET", `${base(scope)}/errors?${new URLSearchParams({ range, status })}`).then((r) => r.groups),
  error: (scope: Scope, fingerprint: string) => request<ErrorDetail>("GET", errorPath(scope, fingerprint)),
  setErrorStatus: (scope: Scope, fingerprint: string, status: ErrorStatus) =>
    request<{ group: ErrorGroup }>("PATCH", errorPath(scope, fingerprint), { json: { status } }).then((r) => r.group),
  replays: (projectId: string, range: Range, errorsOnly: boolean) =>
    request<{ replays: ReplaySummary[] }>(
      "GET",
      `${base({ project: projectId })}/replays?${new URLSearchParams({ range, ...(errorsOnly && { errors: "1" }) })}`,
    ).then((r) => r.replays),
  /** The session's replay, or null when none was recorded (or it has expired). */
  replay: (projectId: string, session: string) =>
    replayApi.detail(projectId, session).catch((err: unknown) => {
      if (err instanceof ApiError && err.isNotFound) return null;
      throw err;
    }),
  settings: (projectId: string) => request<MonitoringSettings>("GET", base({ project: projectId })),
  saveSettings: (projectId: string, change: SettingsChange) =>
    request<MonitoringSettings>("PUT", base({ project: projectId }), { json: change }),
  rotateKey: (projectId: string) => request<MonitoringSettings>("POST", `${base({ project: projectId })}/key`),
};

const scopeKey = (scope: Scope) => (scope === "platform" ? "platform" : scope.project);

/** Query keys, all under ["monitoring", scope]. */
export const monitoringKeys = {
  overview: (scope: Scope, range: Range) => ["monitoring", scopeKey(scope), "overview", range] as const,
  errors: (scope: Scope) => ["monitoring", scopeKey(scope), "errors"] as const,
  errorList: (scope: Scope, range: Range, status: ErrorStatus | "all") =>
    ["monitoring", scopeKey(scope), "errors", range, status] as const,
  error: (scope: Scope, fingerprint: string) => ["monitoring", scopeKey(scope), "errors", "one", fingerprint] as const,
  replays: (projectId: string, range: Range, errorsOnly: boolean) => ["monitoring", projectId, "replays", range, errorsOnly] as const,
  replay: (projectId: string, session: string) => ["monitoring", projectId, "replays", "one", session] as const,
  settings: (projectId: string) => ["monitoring", projectId, "settings"] as const,
};
