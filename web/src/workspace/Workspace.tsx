import { Code2, Files, Search } from "lucide-react";
import { memo } from "react";
import { Group, Panel, Separator, useDefaultLayout } from "react-resizable-panels";
import { useMe } from "@/auth/session";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import type { Project } from "@/lib/api";
import { cn } from "@/lib/utils";
import { useActions } from "./actions";
import { EditorArea } from "./EditorArea";
import { FileDialogs } from "./files/FileDialogs";
import { FilesPane } from "./files/FileTree";
import { useOpenMainFile } from "./mainFile";
import { useProjectSession, useLayout, type LeftView, type MobileTab, type RightTab } from "./model";
import { CommandPalette, QuickOpen, ShortcutHelp } from "./palette/Palettes";
import { PaneTabLabel, RightPane, toolPanes, useOpenedPanes, type PaneTab } from "./RightPane";
import { SearchPane } from "./search/SearchPane";
import { StatusBar } from "./StatusBar";
import { useShortcuts } from "./useShortcuts";
import { WorkspaceHeader } from "./WorkspaceHeader";

// The frame reads no workspace context itself, so a change in one (a file listed,
// a pane shown) re-renders the parts that read it rather than the whole workspace.
export function Workspace() {
  return (
    <div className="flex h-full flex-col overflow-hidden">
      <WorkspaceHeader />
      <div className="min-h-0 flex-1">
        <Columns />
      </div>
      <StatusBar />
      <FileDialogs />
      <QuickOpen />
      <Commands />
      <OpenMainFile />
    </div>
  );
}

function OpenMainFile() {
  useOpenMainFile();
  return null;
}

/** The workspace's actions: on its keys, in the command palette and in the shortcut help. */
function Commands() {
  const { setOverlay, overlay } = useLayout();
  const actions = useActions();
  useShortcuts(actions, {
    palette: () => setOverlay(overlay === "palette" ? null : "palette"),
    "quick-open": () => setOverlay(overlay === "quick-open" ? null : "quick-open"),
  });
  return (
    <>
      <CommandPalette actions={actions} />
      <ShortcutHelp actions={actions} />
    </>
  );
}

function Columns() {
  const { narrow } = useLayout();
  return narrow ? <NarrowLayout /> : <WideLayout />;
}

/** Files and Search share the left column, switched by two icon tabs (as VS Code's activity bar). */
function LeftColumn() {
  const { leftView, openSearch, setLeftView } = useLayout();
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
            aria-selected={leftView === id}
            aria-label={label}
            title={label}
            onClick={() => (id === "search" ? openSearch() : setLeftView(id))}
            className={cn(
              "grid size-8 place-items-center rounded-md text-muted-foreground hover:bg-muted hover:text-foreground",
              leftView === id && "bg-accent text-accent-foreground",
            )}
          >
            <Icon className="size-4" aria-hidden />
          </button>
        ))}
      </div>
      <div className="min-w-0 flex-1">{leftView === "files" ? <FilesPane /> : <SearchPane />}</div>
    </div>
  );
}

// Memoised: a layout change (a tool shown, an overlay opened) re-renders Columns, and
// need not re-render the editor with it; the columns read what they show themselves.
const WideLayout = memo(function WideLayout() {
  const { project } = useProjectSession();
  const me = useMe().data;
  // The columns a person sets are theirs in every project, kept in this browser until they move them again.
  const layout = useDefaultLayout({ id: `ecode.layout.${me?.id ?? "visitor"}`, storage: localStorage, onlySaveAfterUserInteractions: true });
  const sizes = defaultColumns(project);
  return (
    <Group orientation="horizontal" defaultLayout={layout.defaultLayout} onLayoutChanged={layout.onLayoutChanged} className="h-full">
      <Panel id="files-column" defaultSize={sizes.files} minSize="160px" collapsible>
        <LeftColumn />
      </Panel>
      <Separator aria-label="Resize files column" />
      <Panel id="editor-column" defaultSize={sizes.editor} minSize="240px">
        <EditorArea />
      </Panel>
      <Separator aria-label="Resize tools column" />
      <Panel id="tools-column" defaultSize={sizes.tools} minSize="200px" collapsible className="bg-panel">
        <RightPane />
      </Panel>
    </Group>
  );
});

/**
 * Until a person sizes the columns: a project with an app to preview gives the
 * tools (Preview, Console, Shell) nearly half the width, so a page and an
 * 80-column shell fit at 1440 px; a blank one leaves the editor more room.
 */
function defaultColumns(p: Project) {
  return p.template === "blank"
    ? { files: "18%", editor: "50%", tools: "32%" }
    : { files: "15%", editor: "40%", tools: "45%" };
}

// Below 768 px each column is one tab; of the tools, Preview, Console, Agent and Deploy get one each.
const mobileTools: readonly string[] = ["preview", "console", "agent", "deploy"] satisfies MobileTab[];
const mobileTabs: PaneTab<MobileTab>[] = [
  { id: "files", label: "Files", icon: Files, Pane: LeftColumn },
  { id: "code", label: "Code", icon: Code2, Pane: EditorArea },
  ...toolPanes.filter((p): p is PaneTab<MobileTab & RightTab> => mobileTools.includes(p.id)),
];

function NarrowLayout() {
  const { mobileTab, setMobileTab } = useLayout();
  const opened = useOpenedPanes(mobileTab);
  return (
    <Tabs value={mobileTab} onValueChange={(v) => setMobileTab(v as MobileTab)} className="flex h-full min-h-0 flex-col">
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
