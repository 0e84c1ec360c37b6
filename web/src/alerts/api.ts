// The alert and notification routes (internal/alert, internal/notify); the types are docs/openapi.yaml's.

import { request } from "@/lib/api";
import type { components, paths } from "@/lib/schema.gen";

type Schemas = components["schemas"];

export type AlertKind = Schemas["AlertKind"];
export type AlertMetric = Schemas["AlertMetric"];
export type AlertRule = Schemas["AlertRule"];
/** What a person sets of a rule: op, threshold and windowMinutes count for a threshold rule, slo for a burn-rate one. */
export type AlertRuleInput = Omit<AlertRule, "id" | "createdAt" | "updatedAt">;
export type Alert = Schemas["Alert"];
export type AppNotification = Schemas["Notification"];

type RuleChange = NonNullable<paths["/api/projects/{id}/alerts/rules/{rule}"]["patch"]["requestBody"]>["content"]["application/json"];
type TestResults = paths["/api/projects/{id}/alerts/rules/{rule}/test"]["post"]["responses"]["200"]["content"]["application/json"];
type Notifications = paths["/api/notifications"]["get"]["responses"]["200"]["content"]["application/json"];
type MarkRead = paths["/api/notifications/read"]["post"]["requestBody"]["content"]["application/json"];

const base = (id: string) => `/api/projects/${encodeURIComponent(id)}/alerts`;
const rulePath = (id: string, ruleId: string) => `${base(id)}/rules/${encodeURIComponent(ruleId)}`;

export const alertsApi = {
  rules: (id: string) => request<{ rules: AlertRule[] }>("GET", `${base(id)}/rules`).then((r) => r.rules),
  createRule: (id: string, rule: AlertRuleInput) =>
    request<{ rule: AlertRule }>("POST", `${base(id)}/rules`, { json: rule }).then((r) => r.rule),
  /** Changes what change gives; the rest of the rule stays. */
  updateRule: (id: string, ruleId: string, change: RuleChange) =>
    request<{ rule: AlertRule }>("PATCH", rulePath(id, ruleId), { json: change }).then((r) => r.rule),
  deleteRule: (id: string, ruleId: string) => request<void>("DELETE", rulePath(id, ruleId)),
  testRule: (id: string, ruleId: string) => request<TestResults>("POST", `${rulePath(id, ruleId)}/test`, { json: {} }).then((r) => r.results),
  alerts: (id: string, status: Alert["status"] | "all") =>
    request<{ alerts: Alert[] }>("GET", `${base(id)}?status=${status}`).then((r) => r.alerts),
  silence: (id: string, alertId: string, minutes: number) =>
    request<{ alert: Alert }>("POST", `${base(id)}/${encodeURIComponent(alertId)}/silence`, { json: { minutes } }),
  resolve: (id: string, alertId: string) =>
    request<{ alert: Alert }>("POST", `${base(id)}/${encodeURIComponent(alertId)}/resolve`, { json: {} }),
  webhookSecret: (id: string, rotate: boolean) =>
    request<{ secret: string }>(rotate ? "POST" : "GET", `${base(id)}/webhook-secret`, rotate ? { json: {} } : undefined).then(
      (r) => r.secret,
    ),
};

export const notificationsApi = {
  list: () => request<Notifications>("GET", "/api/notifications"),
  read: (body: MarkRead) => request<void>("POST", "/api/notifications/read", { json: body }),
};

export const alertKeys = {
  all: (projectId: string) => ["alerts", projectId] as const,
  rules: (projectId: string) => ["alerts", projectId, "rules"] as const,
  list: (projectId: string, status: string) => ["alerts", projectId, "list", status] as const,
};

export const notificationKeys = { list: ["notifications"] as const };
