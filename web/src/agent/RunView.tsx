import { useLayoutEffect, useRef, useState, type UIEvent } from "react";
import { Badge } from "@/components/ui/badge";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import type { AgentRun } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { PreviewPane } from "@/run/PreviewPane";
import { Checkpoints } from "./Checkpoints";
import { DeployTab } from "./DeployTab";
import { statusLabel } from "./describe";
import { FeaturesTab } from "./FeaturesTab";
import { FilesTab } from "./FilesTab";
import { RunOutcome } from "./RunOutcome";
import { StepList } from "./StepList";

type ResultTab = "steps" | "files" | "preview" | "features" | "deploy";

interface RunViewProps {
  run: AgentRun;
  onRetry?: () => void;
  retrying: boolean;
  /** Why rolling back isn't possible now, if it isn't (a visitor, or the agent is working). */
  rollbackBlocked?: string;
}

/** One run: what was asked, then its Steps, Files, Preview, Features and Deploy as tabs. */
export function RunView({ run, onRetry, retrying, rollbackBlocked }: RunViewProps) {
  const [tab, setTab] = useState<ResultTab>("steps");
  const steps = run.steps ?? [];
  const running = run.status === "running";
  const follow = useStickToBottom(run);
  return (
    <Tabs value={tab} onValueChange={(v) => setTab(v as ResultTab)} className="flex min-h-0 flex-1 flex-col">
      <RunHeader run={run} />
      <TabsList aria-label="Run result">
        <TabsTrigger value="steps">Steps</TabsTrigger>
        <TabsTrigger value="files">Files</TabsTrigger>
        <TabsTrigger value="preview">Preview</TabsTrigger>
        <TabsTrigger value="features">Features</TabsTrigger>
        <TabsTrigger value="deploy">Deploy</TabsTrigger>
      </TabsList>
      <TabsContent value="steps" className="grid grid-cols-1 content-start gap-3 overflow-auto p-3" {...follow}>
        {steps.length === 0 && running && <p className="text-[13px] text-muted-foreground">The agent is reading your request…</p>}
        <StepList steps={steps} live={running} />
        <RunOutcome run={run} onRetry={onRetry} retrying={retrying} onShow={setTab} />
      </TabsContent>
      <TabsContent value="files" className="grid grid-cols-1 content-start gap-4 overflow-auto p-3">
        <FilesTab steps={steps} running={running} />
        <Checkpoints checkpoints={run.checkpoints} disabled={rollbackBlocked} />
      </TabsContent>
      <TabsContent value="preview" className="min-h-0">
        <PreviewPane />
      </TabsContent>
      <TabsContent value="features" className="overflow-auto p-3">
        <FeaturesTab run={run} />
      </TabsContent>
      <TabsContent value="deploy" className="overflow-auto p-3">
        <DeployTab run={run} />
      </TabsContent>
    </Tabs>
  );
}

function RunHeader({ run }: { run: AgentRun }) {
  return (
    <div className="grid shrink-0 gap-1 border-b border-border px-3 py-2">
      <p className="line-clamp-3 text-[13px] break-words whitespace-pre-wrap text-foreground" title={run.prompt}>
        {run.prompt}
      </p>
      <p className="flex items-center gap-2 text-xs text-muted-foreground">
        <Badge data-testid="agent-status">{statusLabel[run.status]}</Badge>
        <time dateTime={new Date(run.createdAt).toISOString()} title={formatDate(run.createdAt)}>
          {timeAgo(run.createdAt)}
        </time>
        {run.model && <span className="truncate">· {run.model}</span>}
      </p>
    </div>
  );
}

/** For a scroll box that follows new content while the person is at its bottom, and stays put when they scrolled up. */
function useStickToBottom(watch: unknown) {
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [watch]);
  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  };
  return { ref, onScroll };
}
