// The project database's routes, beside the pane: the console's errors carry more than the house
// error (PostgreSQL's position, SQLSTATE, detail and hint), read from the error's body.

import { ApiError, request } from "@/lib/api";
import type { components, paths } from "@/lib/schema.gen";

type Schemas = components["schemas"];

/** A project's PostgreSQL database for one environment. */
export type Database = Schemas["Database"];
export type DatabaseEnv = Database["env"];
/** Whether this server can give projects databases, and why not. */
export type DatabaseStatus = Schemas["DatabaseStatus"];
export type DatabaseCredentials = Schemas["DatabaseCredentials"];
/** What one statement of a console run gave. */
export type QueryResult = Schemas["QueryResult"];
export type QueryColumn = Schemas["QueryColumn"];
export type QueryAnswer = paths["/api/projects/{id}/database/{env}/query"]["post"]["responses"]["200"]["content"]["application/json"];
export type QueryHistoryEntry = Schemas["QueryHistoryEntry"];
export type DatabaseTable = Schemas["DatabaseTable"];
export type TableRows = Schemas["TableRows"];
export type DatabaseBackup = Schemas["DatabaseBackup"];
/** A cell as the server sends it: PostgreSQL's text form, or null. */
export type Cell = string | null;
type SQLErrorBody = Schemas["SQLError"]["error"];

/** PostgreSQL refused a statement: its message, and where in the text when it says. */
export class SqlError extends ApiError {
  readonly position?: number;
  readonly sqlState?: string;
  readonly detail?: string;
  readonly hint?: string;

  constructor(status: number, body: SQLErrorBody) {
    super(status, body.code, body.message);
    this.name = "SqlError";
    this.position = body.position;
    this.sqlState = body.sqlState;
    this.detail = body.detail;
    this.hint = body.hint;
  }
}

/** A filter of the table browser: column, operator and (but for null and notnull) a value. */
export interface RowFilter {
  column: string;
  op: "eq" | "ne" | "lt" | "le" | "gt" | "ge" | "like" | "ilike" | "null" | "notnull";
  value: string;
}

export interface RowsQuery {
  schema: string;
  table: string;
  offset: number;
  limit: number;
  order?: string;
  desc?: boolean;
  filters: RowFilter[];
}

const base = (id: string) => `/api/projects/${encodeURIComponent(id)}/database`;
const envPath = (id: string, env: DatabaseEnv) => `${base(id)}/${env}`;
const backupPath = (id: string, env: DatabaseEnv, backupId: string) => `${envPath(id, env)}/backups/${encodeURIComponent(backupId)}`;

async function call<T>(method: string, path: string, body?: unknown, raw?: Blob): Promise<T> {
  try {
    return await request<T>(method, path, raw ? { body: raw, headers: { "Content-Type": "application/octet-stream" } } : { json: body });
  } catch (err) {
    if (err instanceof ApiError && err.code === "sql_error" && err.body) throw new SqlError(err.status, err.body as SQLErrorBody);
    throw err;
  }
}

function rowsUrl(id: string, env: DatabaseEnv, q: RowsQuery): string {
  const params = new URLSearchParams({ schema: q.schema, offset: String(q.offset), limit: String(q.limit) });
  if (q.order) params.set("order", q.order);
  if (q.order && q.desc) params.set("desc", "1");
  for (const f of q.filters) params.append("filter", `${f.column}:${f.op}:${f.value}`);
  return `${envPath(id, env)}/tables/${encodeURIComponent(q.table)}/rows?${params}`;
}

export const dbApi = {
  list: (id: string) => call<{ databases: Database[]; status: DatabaseStatus }>("GET", base(id)),
  create: (id: string, env: DatabaseEnv) => call<{ database: Database }>("POST", base(id), { env }).then((r) => r.database),
  drop: (id: string, env: DatabaseEnv) => call<void>("DELETE", envPath(id, env)),
  credentials: (id: string, env: DatabaseEnv) =>
    call<{ credentials: DatabaseCredentials }>("GET", `${envPath(id, env)}/credentials`).then((r) => r.credentials),
  rotate: (id: string, env: DatabaseEnv) => call<{ database: Database }>("POST", `${envPath(id, env)}/rotate`, {}).then((r) => r.database),
  refreshSize: (id: string, env: DatabaseEnv) =>
    call<{ database: Database }>("POST", `${envPath(id, env)}/refresh-size`, {}).then((r) => r.database),

  /** Runs the text; a refused statement throws SqlError. */
  query: (id: string, env: DatabaseEnv, sql: string, limit?: number) =>
    call<QueryAnswer>("POST", `${envPath(id, env)}/query`, limit ? { sql, limit } : { sql }),
  history: (id: string, env: DatabaseEnv) =>
    call<{ queries: QueryHistoryEntry[] }>("GET", `${envPath(id, env)}/history`).then((r) => r.queries),

  tables: (id: string, env: DatabaseEnv) => call<{ tables: DatabaseTable[] }>("GET", `${envPath(id, env)}/tables`).then((r) => r.tables),
  rows: (id: string, env: DatabaseEnv, q: RowsQuery) => call<TableRows>("GET", rowsUrl(id, env, q)),
  /** Changes the row that key (every primary key column) names; answers the row as it is now. */
  editRow: (id: string, env: DatabaseEnv, schema: string, table: string, key: Record<string, string>, set: Record<string, Cell>) =>
    call<{ row: Record<string, Cell> }>(
      "PATCH",
      `${envPath(id, env)}/tables/${encodeURIComponent(table)}/rows?${new URLSearchParams({ schema })}`,
      { key, set },
    ).then((r) => r.row),

  backups: (id: string, env: DatabaseEnv) =>
    call<{ backups: DatabaseBackup[] }>("GET", `${envPath(id, env)}/backups`).then((r) => r.backups),
  backUp: (id: string, env: DatabaseEnv) =>
    call<{ backup: DatabaseBackup }>("POST", `${envPath(id, env)}/backups`, {}).then((r) => r.backup),
  upload: (id: string, env: DatabaseEnv, file: Blob) =>
    call<{ backup: DatabaseBackup }>("POST", `${envPath(id, env)}/backups/upload`, undefined, file).then((r) => r.backup),
  deleteBackup: (id: string, env: DatabaseEnv, backupId: string) => call<void>("DELETE", backupPath(id, env, backupId)),
  /** Restores a backup; undo is the backup of what was there before, to restore to take it back. */
  restore: (id: string, env: DatabaseEnv, backupId: string) =>
    call<{ restore: { backup: DatabaseBackup; undo: DatabaseBackup } }>("POST", `${backupPath(id, env, backupId)}/restore`, {}).then(
      (r) => r.restore,
    ),
  downloadUrl: (id: string, env: DatabaseEnv, backupId: string) => `${backupPath(id, env, backupId)}/download`,
  /** Replaces production's contents with development's schema (and data); undo is production's backup from before, null when it was made now. */
  copyToProd: (id: string, data: boolean) =>
    call<{ database: Database; undo: DatabaseBackup | null }>("POST", `${base(id)}/prod/copy-from-dev`, { data }),
};
