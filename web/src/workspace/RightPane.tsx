import { Bot, Globe, Play, SquareTerminal, TerminalSquare } from "lucide-react";
import type { ComponentType } from "react";
import { EmptyState } from "@/components/ui/empty-state";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { useWorkspace, type RightTab } from "./model";

// These panes are honest placeholders: each says what it will do once the
// sandbox (runs, shells) and the agent land, and offers nothing it can't do.

function PreviewPane() {
  return (
    <EmptyState icon={Globe} title="Preview">
      When your app runs and listens on a port, it appears here with its own URL bar. Runs arrive with the sandbox.
    </EmptyState>
  );
}

function ConsolePane() {
  return (
    <EmptyState icon={Play} title="Run output appears here">
      Run starts the command from <code className="font-mono">ecode.toml</code> in the project's sandbox and streams its
      output here. Runs arrive with the sandbox.
    </EmptyState>
  );
}

function ShellPane() {
  return (
    <EmptyState icon={SquareTerminal} title="Shell">
      A terminal in the project's sandbox, with Node.js, Python and Go, will open here. Shells arrive with the sandbox.
    </EmptyState>
  );
}

function AgentPane() {
  return (
    <EmptyState icon={Bot} title="Agent">
      Ask the AI agent to build or change something; it will edit files and run commands step by step, showing each
      one here. The agent isn't available on this server yet.
    </EmptyState>
  );
}

export interface PaneTab<Id extends string> {
  id: Id;
  label: string;
  icon: typeof Globe;
  Pane: ComponentType;
}

export const toolPanes: PaneTab<RightTab>[] = [
  { id: "preview", label: "Preview", icon: Globe, Pane: PreviewPane },
  { id: "console", label: "Console", icon: TerminalSquare, Pane: ConsolePane },
  { id: "shell", label: "Shell", icon: SquareTerminal, Pane: ShellPane },
  { id: "agent", label: "Agent", icon: Bot, Pane: AgentPane },
];

/** The right column: Preview, Console, Shell and Agent as tabs. */
export function RightPane() {
  const m = useWorkspace();
  return (
    <Tabs value={m.rightTab} onValueChange={(v) => m.showRight(v as RightTab)} className="flex h-full min-h-0 flex-col">
      <TabsList aria-label="Tools">
        {toolPanes.map(({ id, label, icon: Icon }) => (
          <TabsTrigger key={id} value={id}>
            <Icon aria-hidden /> {label}
          </TabsTrigger>
        ))}
      </TabsList>
      {toolPanes.map(({ id, Pane }) => (
        <TabsContent key={id} value={id}>
          <Pane />
        </TabsContent>
      ))}
    </Tabs>
  );
}
