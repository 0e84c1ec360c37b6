import { queryOptions, useQuery } from "@tanstack/react-query";
import { api, ApiError } from "@/lib/api";

// Server state of the AI features: whether a model is set up, and the
// project's earlier agent runs (the live one comes through the socket).

export const aiStatusQuery = queryOptions({ queryKey: ["ai-status"], queryFn: api.aiStatus, staleTime: 60_000 });

/** Whether this server has a model to talk to (GET /api/ai/status). */
export function useAiStatus() {
  return useQuery(aiStatusQuery);
}

/** True for the answer the server gives every AI request while no model is configured. */
export const isNotConfigured = (err: unknown): boolean => err instanceof ApiError && err.code === "ai_not_configured";

export const agentRunsKey = (projectId: string) => ["agent-runs", projectId] as const;

export const agentRunsQuery = (projectId: string) =>
  queryOptions({ queryKey: agentRunsKey(projectId), queryFn: () => api.agentRuns(projectId) });

export const agentRunQuery = (projectId: string, runId: string) =>
  queryOptions({
    queryKey: [...agentRunsKey(projectId), runId] as const,
    queryFn: () => api.agentRun(projectId, runId),
  });
