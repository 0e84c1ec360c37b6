// The project key-value store's management routes, beside the pane.

import { request } from "@/lib/api";
import type { components } from "@/lib/schema.gen";

type Schemas = components["schemas"];

/** dev: the workspace's store; prod: the deployments'. */
export type KvEnv = "dev" | "prod";
/** A key as listed: its size (key and value bytes, what counts against the limit) and last change (unix ms). */
export type KvEntry = Schemas["KVEntry"];
/** A key with its value, the opaque string its clients stored. */
export type KvValue = Schemas["KVValue"];
/** How full the store is, against its limits. */
export type KvUsage = Schemas["KVUsage"];
export type KvPage = Schemas["KVPage"];

const envPath = (id: string, env: KvEnv) => `/api/projects/${encodeURIComponent(id)}/kv/${env}`;
const valuePath = (id: string, env: KvEnv, key: string) => `${envPath(id, env)}/value?${new URLSearchParams({ key })}`;

export const kvApi = {
  list: (id: string, env: KvEnv, prefix: string, after: string) =>
    request<KvPage>("GET", `${envPath(id, env)}?${new URLSearchParams({ prefix, after, limit: "100" })}`),
  get: (id: string, env: KvEnv, key: string) => request<KvValue>("GET", valuePath(id, env, key)),
  set: (id: string, env: KvEnv, key: string, value: string) =>
    request<{ entry: KvEntry }>("PUT", valuePath(id, env, key), { json: { value } }).then((r) => r.entry),
  remove: (id: string, env: KvEnv, key: string) => request<void>("DELETE", valuePath(id, env, key)),
};

/** Query keys of the pane; everything of one environment sits under kvKeys.env. */
export const kvKeys = {
  env: (projectId: string, env: KvEnv) => ["kv", projectId, env] as const,
  list: (projectId: string, env: KvEnv, prefix: string) => ["kv", projectId, env, "list", prefix] as const,
  value: (projectId: string, env: KvEnv, key: string) => ["kv", projectId, env, "value", key] as const,
};
