import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Bot } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { toast } from "sonner";
import { isOutOfCredits } from "@/billing/api";
import { OutOfCredits } from "@/billing/OutOfCredits";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading } from "@/components/ui/spinner";
import { api, errorMessage, type AgentRun } from "@/lib/api";
import { useProjectSession, useLayout } from "@/workspace/model";
import { AISetupHelp } from "./AISetupHelp";
import { ProgressLine } from "./ProgressLine";
import { PromptBox } from "./PromptBox";
import { agentRunQuery, agentRunsKey, aiStatusQuery, isNotConfigured, useAiStatus } from "./queries";
import { RunPicker } from "./RunPicker";
import { RunView } from "./RunView";
import { useAgentStream } from "./stream";
import { useAgentSync } from "./useAgentSync";

/** The Agent tab: ask the AI agent for changes and watch it work, step by step. */
export function AgentPane() {
  const ai = useAiStatus();
  if (ai.isPending) return <Loading label="Checking the AI setup" />;
  if (ai.isError) return <ErrorState title="Couldn't check the AI setup" error={ai.error} onRetry={() => void ai.refetch()} />;
  if (!ai.data.configured) {
    return (
      <EmptyState icon={Bot} title="The agent isn't set up on this server">
        <AISetupHelp />
      </EmptyState>
    );
  }
  return <AgentWorkbench />;
}

function AgentWorkbench() {
  const { project, agent: stream, canEdit } = useProjectSession();
  const { narrow, mobileTab, rightTab } = useLayout();
  const qc = useQueryClient();
  const id = project.id;
  useAgentSync(stream);
  const { run: latest, loaded } = useAgentStream(stream, (s) => s);

  // Which run is open: null follows the latest (live) one.
  const [openId, setOpenId] = useState<string | null>(null);
  const followsLatest = openId === null || openId === latest?.id;
  const older = useQuery({ ...agentRunQuery(id, openId ?? ""), enabled: !followsLatest });
  const run = followsLatest ? latest : (older.data ?? null);
  const working = latest?.status === "running";

  const [draft, setDraft] = useState("");
  const input = useRef<HTMLTextAreaElement>(null);
  const start = useMutation({
    mutationFn: (prompt: string) => api.startAgentRun(id, prompt),
    onSuccess: (started, prompt) => {
      stream.started(started);
      setOpenId(null);
      setDraft((d) => (d.trim() === prompt.trim() ? "" : d));
      void qc.invalidateQueries({ queryKey: agentRunsKey(id) });
    },
    onError: (err) => {
      if (isNotConfigured(err)) void qc.invalidateQueries({ queryKey: aiStatusQuery.queryKey });
    },
  });
  const stop = useMutation({
    mutationFn: (runId: string) => api.stopAgentRun(id, runId),
    onError: (err) => toast.error("Couldn't stop the agent", { description: errorMessage(err) }),
  });

  // A question from the agent puts the cursor where the answer goes, when the pane is in view.
  const shown = narrow ? mobileTab === "agent" : rightTab === "agent";
  const asks = followsLatest && latest?.status === "needs_input";
  useEffect(() => {
    if (asks && shown) input.current?.focus();
  }, [asks, shown, latest?.id]);

  return (
    <div className="flex h-full min-h-0 flex-col" data-testid="agent-pane">
      <div className="flex h-9 shrink-0 items-center gap-2 border-b border-border px-2">
        <span className="min-w-0 flex-1 truncate text-xs text-muted-foreground">
          {followsLatest ? (
            "Latest run"
          ) : (
            <>
              An earlier run ·{" "}
              <Button variant="link" size="sm" className="text-xs" onClick={() => setOpenId(null)}>
                Back to the latest
              </Button>
            </>
          )}
        </span>
        <RunPicker projectId={id} openId={openId} onOpen={setOpenId} />
      </div>
      <OpenRun
        run={run}
        loading={followsLatest ? !loaded : older.isPending}
        error={followsLatest ? null : older.error}
        onRetry={canEdit && run ? () => start.mutate(run.prompt) : undefined}
        retrying={start.isPending}
        rollbackBlocked={!canEdit ? "Only people who can edit this project can roll back." : working ? "Stop the agent to roll back." : undefined}
      />
      {latest && working && (
        <ProgressLine
          run={latest}
          // Stopping lasts until the run says it stopped, not just until the request is answered.
          stopping={stop.isPending || (stop.isSuccess && stop.variables === latest.id)}
          onStop={canEdit ? () => stop.mutate(latest.id) : undefined}
        />
      )}
      {canEdit ? (
        <PromptBox
          inputRef={input}
          value={draft}
          onChange={(v) => {
            setDraft(v);
            if (start.isError) start.reset();
          }}
          onSend={() => start.mutate(draft.trim())}
          sending={start.isPending}
          blocked={working ? "The agent is working; stop it to send more." : null}
          placeholder={asks ? "Answer the agent…" : latest ? "Ask for a change…" : "Describe what to build or change…"}
          error={
            !start.isError ? null : isOutOfCredits(start.error) ? (
              <OutOfCredits project={project} what="agent" />
            ) : (
              errorMessage(start.error)
            )
          }
        />
      ) : (
        <p className="shrink-0 border-t border-border px-3 py-2 text-xs text-muted-foreground">
          Only people who can edit this project can ask the agent.
        </p>
      )}
    </div>
  );
}

interface OpenRunProps {
  run: AgentRun | null;
  loading: boolean;
  error: unknown;
  onRetry?: () => void;
  retrying: boolean;
  rollbackBlocked?: string;
}

/** The open run, or what stands in its place: loading, a failure, or how to begin. */
function OpenRun({ run, loading, error, ...rest }: OpenRunProps) {
  if (run) return <RunView key={run.id} run={run} {...rest} />;
  return (
    <div className="min-h-0 flex-1 overflow-auto">
      {error ? (
        <ErrorState title="Couldn't load this run" error={error} />
      ) : loading ? (
        <Loading label="Loading the agent's runs" />
      ) : (
        <EmptyState icon={Bot} title="Ask the agent">
          Describe what you want below. The agent writes the files, runs commands and starts your app, showing each step
          here; you can roll back to any point.
        </EmptyState>
      )}
    </div>
  );
}
