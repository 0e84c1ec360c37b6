import { Download, FileCode, FileQuestion, FileWarning, FolderOpen, Search, X } from "lucide-react";
import { useEffect } from "react";
import { FollowBar } from "@/collab/PresenceAvatars";
import { Button, buttonVariants } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Kbd } from "@/components/ui/badge";
import { Loading, Spinner } from "@/components/ui/spinner";
import { CodeEditor } from "@/editor/CodeEditor";
import { MAX_EDITABLE_BYTES, useDocs, type DocInfo } from "@/editor/documents";
import { formatBytes } from "@/lib/format";
import { api } from "@/lib/api";
import { modKey } from "@/lib/keys";
import { basename } from "@/lib/paths";
import { useTheme } from "@/lib/theme";
import { cn } from "@/lib/utils";
import { useMainFile } from "./mainFile";
import { useProjectSession, useLayout, useEditorTabs } from "./model";

export function EditorArea() {
  const { store, presence } = useProjectSession();
  const tabs = useDocs(store, (s) => s.tabs);
  const activePath = useDocs(store, (s) => s.active);
  const active = tabs.find((t) => t.path === activePath) ?? null;
  // The editor tells the others where this tab's cursor is; without one, only which file (if any) is open.
  const showing = active?.status === "ready";
  useEffect(() => {
    if (!showing) presence.setLocal(activePath, null);
  }, [presence, activePath, showing]);

  return (
    <div className="flex h-full min-h-0 flex-col">
      <EditorTabs tabs={tabs} active={activePath} />
      <FollowBar />
      <div className="min-h-0 flex-1">
        {!active && <NoFileOpen />}
        {active?.status === "loading" && <Loading label={`Opening ${basename(active.path)}`} />}
        {active?.status === "error" && (
          <EmptyState
            icon={FileWarning}
            title={`Couldn't open ${basename(active.path)}`}
            action={<Button onClick={() => store.retry(active.path)}>Try again</Button>}
          >
            <span role="alert">{active.loadError}</span>
          </EmptyState>
        )}
        {(active?.status === "binary" || active?.status === "too-large") && (
          <DownloadInstead path={active.path} binary={active.status === "binary"} />
        )}
        {active?.status === "ready" && <ActiveEditor path={active.path} readOnly={active.readOnly} />}
      </div>
      <CloseUnsavedDialog />
    </div>
  );
}

/** Files the editor can't show: binary ones and very large ones. */
function DownloadInstead({ path, binary }: { path: string; binary: boolean }) {
  const { project } = useProjectSession();
  const name = basename(path);
  return (
    <EmptyState
      icon={FileQuestion}
      title={binary ? "Binary file" : "File too large to edit"}
      action={
        <a className={buttonVariants({ variant: "secondary" })} href={api.fileUrl(project.id, path)} download>
          <Download /> Download {name}
        </a>
      }
    >
      {binary
        ? `${name} isn't UTF-8 text, so it can't be edited here.`
        : `${name} is over ${formatBytes(MAX_EDITABLE_BYTES)}, more than the browser editor handles well.`}
    </EmptyState>
  );
}

function ActiveEditor({ path, readOnly }: { path: string; readOnly: boolean }) {
  const { store, presence } = useProjectSession();
  const theme = useTheme();
  const reveal = useDocs(store, (s) => s.reveal);
  return <CodeEditor store={store} path={path} theme={theme} reveal={reveal} presence={presence} readOnly={readOnly} />;
}

function NoFileOpen() {
  const { setOverlay, openSearch } = useLayout();
  const { openFile } = useEditorTabs();
  const main = useMainFile();
  return (
    <EmptyState
      icon={FolderOpen}
      title="No file open"
      action={
        main && (
          <Button variant="primary" onClick={() => openFile(main, { focus: true })}>
            <FileCode /> Open {main}
          </Button>
        )
      }
    >
      <p>Pick a file in the tree, or:</p>
      <div className="mt-3 grid gap-1.5 text-left">
        <button type="button" className="flex items-center justify-between gap-6 rounded px-2 py-1 hover:bg-muted" onClick={() => setOverlay("quick-open")}>
          Open a file <Kbd>{modKey} P</Kbd>
        </button>
        <button type="button" className="flex items-center justify-between gap-6 rounded px-2 py-1 hover:bg-muted" onClick={openSearch}>
          <span className="inline-flex items-center gap-1.5">
            <Search className="size-3.5" aria-hidden /> Search in files
          </span>
          <Kbd>{modKey} ⇧ F</Kbd>
        </button>
        <button type="button" className="flex items-center justify-between gap-6 rounded px-2 py-1 hover:bg-muted" onClick={() => setOverlay("palette")}>
          All commands <Kbd>{modKey} K</Kbd>
        </button>
      </div>
    </EmptyState>
  );
}

function EditorTabs({ tabs, active }: { tabs: DocInfo[]; active: string | null }) {
  const { store, presence } = useProjectSession();
  const { requestClose } = useEditorTabs();
  if (tabs.length === 0) return <div className="h-9 shrink-0 border-b border-border" />;
  return (
    <div role="tablist" aria-label="Open files" className="flex h-9 shrink-0 overflow-x-auto border-b border-border bg-panel">
      {tabs.map((tab) => {
        const selected = tab.path === active;
        // A live document's edits reach the server within a blink: only those held back (offline, failed) earn the dot.
        const dirty = tab.live ? tab.saveState === "offline" || tab.saveState === "error" : store.isDirty(tab.path);
        return (
          <div
            key={tab.path}
            className={cn(
              "group flex shrink-0 items-center border-r border-border",
              selected ? "bg-background text-foreground" : "text-muted-foreground hover:text-foreground",
            )}
            onAuxClick={(e) => e.button === 1 && requestClose(tab.path)}
          >
            <button
              type="button"
              role="tab"
              aria-selected={selected}
              title={tab.path}
              className={cn(
                "flex h-full items-center gap-1.5 pl-3 pr-1 text-[13px] focus-visible:-outline-offset-2",
                selected && "shadow-[inset_0_2px_0_var(--primary)]",
              )}
              onClick={() => {
                presence.unfollow();
                store.activate(tab.path);
              }}
            >
              {basename(tab.path)}
              {dirty && (
                <span aria-label="unsaved changes" title="Unsaved changes" className="text-foreground">
                  ●
                </span>
              )}
              {tab.saveState === "saving" && !tab.live && <Spinner className="size-3" />}
            </button>
            <button
              type="button"
              aria-label={`Close ${basename(tab.path)}`}
              className="mr-1 rounded p-0.5 text-muted-foreground opacity-70 hover:bg-muted hover:text-foreground hover:opacity-100 focus-visible:opacity-100 group-hover:opacity-100"
              onClick={() => requestClose(tab.path)}
            >
              <X className="size-3.5" />
            </button>
          </div>
        );
      })}
    </div>
  );
}

/** "Save changes?" when closing a tab with unsaved edits. */
function CloseUnsavedDialog() {
  const { store } = useProjectSession();
  const { closing: path, cancelClose } = useEditorTabs();
  const name = path ? basename(path) : "this file";
  return (
    <ConfirmDialog
      open={path !== null}
      onOpenChange={(open) => !open && cancelClose()}
      title={`Save changes to ${name}?`}
      description="Your changes will be lost if you close without saving."
      confirmLabel="Save"
      onConfirm={async () => {
        if (!path) return;
        if (!(await store.save(path))) throw new Error(`Couldn't save ${name}; your changes are still in the editor.`);
        store.close(path);
      }}
      extra={
        <Button
          variant="destructive"
          onClick={() => {
            if (path) store.close(path);
            cancelClose();
          }}
        >
          Don't save
        </Button>
      }
    />
  );
}
