import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { toast } from "sonner";
import type { AgentFileChange } from "@/lib/api";
import { runConfigKey } from "@/run/runs";
import { filesKey } from "@/workspace/files/useFileOps";
import { historyKey } from "@/workspace/history/restore";
import { useProjectSession } from "@/workspace/model";
import { agentRunsKey } from "./queries";
import type { AgentStream } from "./stream";

/**
 * Keeps the rest of the workspace in step with the agent: the file tree and
 * open tabs follow the files it writes, the run list and the history follow
 * its runs and checkpoints.
 */
export function useAgentSync(stream: AgentStream) {
  const { project, store } = useProjectSession();
  const qc = useQueryClient();
  const id = project.id;

  useEffect(() => {
    const refreshFiles = () => {
      void qc.invalidateQueries({ queryKey: filesKey(id) });
      void qc.invalidateQueries({ queryKey: runConfigKey(id) });
    };

    function filesChanged(files: AgentFileChange[]) {
      refreshFiles();
      for (const f of files) if (f.change === "deleted") store.deleted(f.path);
      const open = new Set(store.getSnapshot().tabs.map((t) => t.path));
      const touched = files.filter((f) => f.change !== "deleted" && open.has(f.path)).map((f) => f.path);
      if (touched.length === 0) return;
      // Reloading would throw away unsaved edits; those win, and the person hears why.
      if (!store.anyDirty) store.reloadAll();
      else
        toast.warning(`The agent changed ${touched.join(", ")}`, {
          description: "You have unsaved changes open, so the editor keeps your version; saving it replaces the agent's.",
        });
    }

    return stream.onEvent((e, prev) => {
      if (e.kind === "step" && e.step.status !== "running" && e.step.files?.length) filesChanged(e.step.files);
      if (e.kind !== "run") return;
      const same = prev?.id === e.run.id;
      if (!same || prev.status !== e.run.status) {
        void qc.invalidateQueries({ queryKey: agentRunsKey(id) });
        // Commands it ran (npm install, say) write files no step lists.
        if (e.run.status !== "running") refreshFiles();
      }
      if (!same || prev.checkpoints.length !== e.run.checkpoints.length) void qc.invalidateQueries({ queryKey: historyKey(id) });
    });
  }, [stream, qc, id, store]);
}
