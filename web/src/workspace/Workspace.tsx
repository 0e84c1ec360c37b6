import { Code2, Files, Search } from "lucide-react";
import { Group, Panel, Separator, useDefaultLayout } from "react-resizable-panels";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { cn } from "@/lib/utils";
import { useActions } from "./actions";
import { EditorArea } from "./EditorArea";
import { FileDialogs } from "./files/FileDialogs";
import { FilesPane } from "./files/FileTree";
import { useWorkspace, type LeftView, type MobileTab } from "./model";
import { CommandPalette, QuickOpen, ShortcutHelp } from "./palette/Palettes";
import { PaneTabLabel, RightPane, toolPanes, useOpenedPanes, type PaneTab } from "./RightPane";
import { SearchPane } from "./search/SearchPane";
import { StatusBar } from "./StatusBar";
import { useShortcuts } from "./useShortcuts";
import { WorkspaceHeader } from "./WorkspaceHeader";

export function Workspace() {
  const m = useWorkspace();
  const actions = useActions();
  useShortcuts(actions, {
    palette: () => m.setOverlay(m.overlay === "palette" ? null : "palette"),
    "quick-open": () => m.setOverlay(m.overlay === "quick-open" ? null : "quick-open"),
  });

  return (
    <div className="flex h-full flex-col overflow-hidden">
      <WorkspaceHeader />
      <div className="min-h-0 flex-1">{m.narrow ? <NarrowLayout /> : <WideLayout />}</div>
      <StatusBar />
      <FileDialogs />
      <QuickOpen />
      <CommandPalette actions={actions} />
      <ShortcutHelp actions={actions} />
    </div>
  );
}

/** Files and Search share the left column, switched by two icon tabs (as VS Code's activity bar). */
function LeftColumn() {
  const m = useWorkspace();
  const views: { id: LeftView; label: string; icon: typeof Files }[] = [
    { id: "files", label: "Files", icon: Files },
    { id: "search", label: "Search", icon: Search },
  ];
  return (
    <div className="flex h-full min-h-0 bg-panel">
      <div role="tablist" aria-label="Side bar" aria-orientation="vertical" className="flex w-10 shrink-0 flex-col items-center gap-1 border-r border-border py-1.5">
        {views.map(({ id, label, icon: Icon }) => (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={m.leftView === id}
            aria-label={label}
            title={label}
            onClick={() => (id === "search" ? m.openSearch() : m.setLeftView(id))}
            className={cn(
              "grid size-8 place-items-center rounded-md text-muted-foreground hover:bg-muted hover:text-foreground",
              m.leftView === id && "bg-accent text-accent-foreground",
            )}
          >
            <Icon className="size-4" aria-hidden />
          </button>
        ))}
      </div>
      <div className="min-w-0 flex-1">{m.leftView === "files" ? <FilesPane /> : <SearchPane />}</div>
    </div>
  );
}

function WideLayout() {
  const m = useWorkspace();
  const layout = useDefaultLayout({ id: `ecode.layout.${m.project.id}`, storage: localStorage });
  return (
    <Group orientation="horizontal" defaultLayout={layout.defaultLayout} onLayoutChanged={layout.onLayoutChanged} className="h-full">
      <Panel id="files-column" defaultSize="22%" minSize="160px" collapsible>
        <LeftColumn />
      </Panel>
      <Separator aria-label="Resize files column" />
      <Panel id="editor-column" defaultSize="48%" minSize="240px">
        <EditorArea />
      </Panel>
      <Separator aria-label="Resize tools column" />
      <Panel id="tools-column" defaultSize="30%" minSize="200px" collapsible className="bg-panel">
        <RightPane />
      </Panel>
    </Group>
  );
}

// Below 768 px each column is one tab; of the tools, Preview, Console and Agent get one each.
const mobileTabs: PaneTab<MobileTab>[] = [
  { id: "files", label: "Files", icon: Files, Pane: LeftColumn },
  { id: "code", label: "Code", icon: Code2, Pane: EditorArea },
  ...toolPanes.filter(
    (p): p is PaneTab<"preview" | "console" | "agent"> => p.id === "preview" || p.id === "console" || p.id === "agent",
  ),
];

function NarrowLayout() {
  const m = useWorkspace();
  const opened = useOpenedPanes(m.mobileTab);
  return (
    <Tabs value={m.mobileTab} onValueChange={(v) => m.setMobileTab(v as MobileTab)} className="flex h-full min-h-0 flex-col">
      <TabsList aria-label="Workspace" className="justify-between px-0">
        {mobileTabs.map((p) => (
          <TabsTrigger key={p.id} value={p.id} className="flex-1 justify-center gap-1 px-1 text-xs">
            <PaneTabLabel {...p} />
          </TabsTrigger>
        ))}
      </TabsList>
      {mobileTabs.map(({ id, Pane }) => (
        <TabsContent key={id} value={id} forceMount className={id === "files" ? "bg-panel" : undefined}>
          {opened.has(id) && <Pane />}
        </TabsContent>
      ))}
    </Tabs>
  );
}
