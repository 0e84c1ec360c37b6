import { useQuery } from "@tanstack/react-query";
import { dbApi, type DatabaseEnv, type RowsQuery } from "./api";

/** Query keys of the pane; everything of one database sits under dbKeys.env. */
export const dbKeys = {
  all: (projectId: string) => ["database", projectId] as const,
  env: (projectId: string, env: DatabaseEnv) => ["database", projectId, env] as const,
  history: (projectId: string, env: DatabaseEnv) => ["database", projectId, env, "history"] as const,
  tables: (projectId: string, env: DatabaseEnv) => ["database", projectId, env, "tables"] as const,
  rows: (projectId: string, env: DatabaseEnv, q: RowsQuery) => ["database", projectId, env, "rows", q] as const,
  backups: (projectId: string, env: DatabaseEnv) => ["database", projectId, env, "backups"] as const,
};

export function useDatabases(projectId: string) {
  return useQuery({ queryKey: dbKeys.all(projectId), queryFn: () => dbApi.list(projectId) });
}

export function useHistory(projectId: string, env: DatabaseEnv) {
  return useQuery({ queryKey: dbKeys.history(projectId, env), queryFn: () => dbApi.history(projectId, env) });
}

export function useTables(projectId: string, env: DatabaseEnv) {
  return useQuery({ queryKey: dbKeys.tables(projectId, env), queryFn: () => dbApi.tables(projectId, env) });
}

export function useBackups(projectId: string, env: DatabaseEnv) {
  return useQuery({ queryKey: dbKeys.backups(projectId, env), queryFn: () => dbApi.backups(projectId, env) });
}
