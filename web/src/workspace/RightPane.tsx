import { Bot, Braces, ClipboardCheck, Database, Globe, HardDrive, History, KeyRound, Rocket, SlidersHorizontal, SquareTerminal, TerminalSquare } from "lucide-react";
import { useState, type ComponentType } from "react";
import { AgentPane } from "@/agent/AgentPane";
import { AssignmentPane, useProjectAssignment } from "@/courses/AssignmentPane";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { DatabasePane } from "@/database/DatabasePane";
import { DeployPane } from "@/deploy/DeployPane";
import { KvPane } from "@/kv/KvPane";
import { ConsolePane } from "@/run/ConsolePane";
import { PreviewPane } from "@/run/PreviewPane";
import { ShellPane } from "@/shell/ShellPane";
import { StoragePane } from "@/storage/StoragePane";
import { HistoryPane } from "./history/HistoryPane";
import { SecretsPane } from "./SecretsPane";
import { SettingsPane } from "./SettingsPane";
import { useLayout, useProjectSession, type RightTab } from "./model";

export interface PaneTab<Id extends string> {
  id: Id;
  label: string;
  icon: typeof Globe;
  Pane: ComponentType;
}

export const toolPanes: PaneTab<RightTab>[] = [
  { id: "assignment", label: "Assignment", icon: ClipboardCheck, Pane: AssignmentPane },
  { id: "preview", label: "Preview", icon: Globe, Pane: PreviewPane },
  { id: "console", label: "Console", icon: TerminalSquare, Pane: ConsolePane },
  { id: "shell", label: "Shell", icon: SquareTerminal, Pane: ShellPane },
  { id: "agent", label: "Agent", icon: Bot, Pane: AgentPane },
  { id: "secrets", label: "Secrets", icon: KeyRound, Pane: SecretsPane },
  { id: "database", label: "Database", icon: Database, Pane: DatabasePane },
  { id: "kv", label: "Key-value", icon: Braces, Pane: KvPane },
  { id: "storage", label: "Storage", icon: HardDrive, Pane: StoragePane },
  { id: "history", label: "History", icon: History, Pane: HistoryPane },
  { id: "deploy", label: "Deploy", icon: Rocket, Pane: DeployPane },
  { id: "settings", label: "Settings", icon: SlidersHorizontal, Pane: SettingsPane },
];

/**
 * The panes shown so far. They stay mounted once opened (hidden while another
 * is shown) so that shells, the console's scrollback and the preview's page
 * survive switching tabs, and none loads before it is first wanted.
 */
export function useOpenedPanes<T>(current: T): ReadonlySet<T> {
  const [opened, setOpened] = useState<ReadonlySet<T>>(() => new Set([current]));
  if (!opened.has(current)) {
    const next = new Set([...opened, current]);
    setOpened(next);
    return next;
  }
  return opened;
}

/** A pane tab's icon and name, with a dot when the Preview has news (the app started listening). */
export function PaneTabLabel({ id, label, icon: Icon }: Pick<PaneTab<string>, "id" | "label" | "icon">) {
  const { previewNews } = useLayout();
  const news = id === "preview" && previewNews;
  return (
    <>
      <Icon aria-hidden /> <span className="whitespace-nowrap @max-[34rem]/tools:sr-only @max-[34rem]/tools:in-data-[state=active]:not-sr-only">{label}</span>
      {news && <span className="size-1.5 rounded-full bg-run" role="img" aria-label="(your app is ready)" />}
    </>
  );
}

/** The right column: the Assignment (for a course's project), Preview, Console, Shell, Agent, Secrets, Database, Key-value, Storage, History, Deploy and Settings as tabs; narrow, only the open tab shows its name beside its icon (the others name themselves in a tooltip). */
export function RightPane() {
  const { rightTab, showRight } = useLayout();
  const { project } = useProjectSession();
  // The Assignment pane is there only for a course assignment's starter or a student's copy.
  const assignment = Boolean(useProjectAssignment(project.id).data);
  const panes = assignment ? toolPanes : toolPanes.filter((p) => p.id !== "assignment");
  const shown = assignment || rightTab !== "assignment" ? rightTab : "console";
  const opened = useOpenedPanes(shown);
  return (
    <Tabs value={shown} onValueChange={(v) => showRight(v as RightTab)} className="@container/tools flex h-full min-h-0 flex-col">
      <TabsList aria-label="Tools">
        {panes.map((p) => (
          <TabsTrigger key={p.id} value={p.id} title={p.label}>
            <PaneTabLabel {...p} />
          </TabsTrigger>
        ))}
      </TabsList>
      {panes.map(({ id, Pane }) => (
        <TabsContent key={id} value={id} forceMount>
          {opened.has(id) && <Pane />}
        </TabsContent>
      ))}
    </Tabs>
  );
}
