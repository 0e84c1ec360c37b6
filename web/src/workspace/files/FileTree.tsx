import {
  ChevronRight,
  Copy,
  Download,
  File,
  FileCode,
  FileJson,
  FilePlus,
  FileText,
  Folder,
  FolderOpen,
  FolderPlus,
  FolderUp,
  Image,
  ListCollapse,
  Pencil,
  Trash2,
  Upload,
} from "lucide-react";
import { useEffect, useMemo, useRef, useState, type DragEvent, type KeyboardEvent, type ReactNode } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import {
  ContextMenu,
  ContextMenuContent,
  ContextMenuItem,
  ContextMenuSeparator,
  ContextMenuTrigger,
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuTrigger,
} from "@/components/ui/menu";
import { Loading } from "@/components/ui/spinner";
import { Tooltip } from "@/components/ui/tooltip";
import { useDocs } from "@/editor/documents";
import { api } from "@/lib/api";
import { dirname, extension } from "@/lib/paths";
import { cn } from "@/lib/utils";
import { useProjectSession, useProjectFiles, useEditorTabs } from "../model";
import { buildTree, visibleRows, type TreeNode, type VisibleRow } from "./tree";

const DRAG_TYPE = "application/x-ecode-path";

function iconFor(node: TreeNode, open: boolean) {
  if (node.dir) return open ? FolderOpen : Folder;
  const ext = extension(node.path);
  if (["js", "jsx", "ts", "tsx", "mjs", "cjs", "py", "go", "html", "css", "sh", "rs", "java", "c", "cpp", "rb"].includes(ext))
    return FileCode;
  if (["json", "toml", "yaml", "yml"].includes(ext)) return FileJson;
  if (["md", "txt", "markdown"].includes(ext)) return FileText;
  if (["png", "jpg", "jpeg", "gif", "svg", "webp", "ico"].includes(ext)) return Image;
  return File;
}

/** The folder new things go into when a row (or nothing) is selected. */
const folderOf = (node: { path: string; dir: boolean } | null) => (node ? (node.dir ? node.path : dirname(node.path)) : "");

export function FilesPane() {
  const { canEdit, project } = useProjectSession();
  const { files, treeFocus, setFileDialog, pickUpload, collapseAll, filesQuery } = useProjectFiles();
  // New things go into the folder of the row last focused in the tree, as in VS Code.
  const dir = folderOf(files.find((f) => f.path === treeFocus) ?? null);
  return (
    <div className="flex h-full min-h-0 flex-col">
      <div className="flex h-9 shrink-0 items-center justify-between gap-1 border-b border-border pl-3 pr-1">
        <h2 className="text-xs font-semibold uppercase tracking-wide text-muted-foreground">Files</h2>
        <div className="flex items-center">
          {canEdit && (
            <>
              <IconAction label="New file" onClick={() => setFileDialog({ kind: "new-file", dir })}>
                <FilePlus />
              </IconAction>
              <IconAction label="New folder" onClick={() => setFileDialog({ kind: "new-folder", dir })}>
                <FolderPlus />
              </IconAction>
              <DropdownMenu>
                <Tooltip content="Upload">
                  <DropdownMenuTrigger asChild>
                    <Button variant="ghost" size="icon-sm" aria-label="Upload">
                      <Upload />
                    </Button>
                  </DropdownMenuTrigger>
                </Tooltip>
                <DropdownMenuContent>
                  <DropdownMenuItem onSelect={() => pickUpload("files", dir)}>
                    <Upload /> Upload files…
                  </DropdownMenuItem>
                  <DropdownMenuItem onSelect={() => pickUpload("folder", dir)}>
                    <FolderUp /> Upload folder…
                  </DropdownMenuItem>
                </DropdownMenuContent>
              </DropdownMenu>
            </>
          )}
          <Tooltip content="Download project as zip">
            <Button variant="ghost" size="icon-sm" asChild>
              <a href={api.zipUrl(project.id)} download aria-label="Download project as zip">
                <Download />
              </a>
            </Button>
          </Tooltip>
          <IconAction label="Collapse folders" onClick={collapseAll}>
            <ListCollapse />
          </IconAction>
        </div>
      </div>
      <div className="min-h-0 flex-1 overflow-auto">
        {filesQuery.isPending && <Loading label="Loading files" />}
        {filesQuery.isError && (
          <ErrorState title="Couldn't list files" error={filesQuery.error} onRetry={() => void filesQuery.refetch()} />
        )}
        {filesQuery.isSuccess && <FileTree />}
        {filesQuery.data?.truncated && (
          <p className="px-3 py-2 text-xs text-warning">This project has more files than the tree can show.</p>
        )}
      </div>
    </div>
  );
}

function IconAction({ label, onClick, children }: { label: string; onClick: () => void; children: ReactNode }) {
  return (
    <Tooltip content={label}>
      <Button variant="ghost" size="icon-sm" aria-label={label} onClick={onClick}>
        {children}
      </Button>
    </Tooltip>
  );
}

function FileTree() {
  const { store, canEdit, project } = useProjectSession();
  const { files, expanded, setFolderOpen, setFileDialog, ops, pickUpload, revealInTree, treeFocus: focused, setTreeFocus: setFocused } =
    useProjectFiles();
  const { openFile } = useEditorTabs();
  const tree = useMemo(() => buildTree(files), [files]);
  const rows = useMemo(() => visibleRows(tree, expanded), [tree, expanded]);
  const active = useDocs(store, (s) => s.active);
  const [menuTarget, setMenuTarget] = useState<TreeNode | null>(null);
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const treeRef = useRef<HTMLDivElement>(null);

  // The active editor tab is always visible in the tree, as in VS Code.
  useEffect(() => {
    if (active) revealInTree(active);
  }, [active, revealInTree]);

  const current = rows.find((r) => r.node.path === (focused ?? active)) ?? rows[0];

  function focusRow(row: VisibleRow | undefined) {
    if (!row) return;
    setFocused(row.node.path);
    treeRef.current?.querySelector<HTMLElement>(`[data-path="${CSS.escape(row.node.path)}"]`)?.focus();
  }

  function activate(node: TreeNode) {
    setFocused(node.path);
    if (node.dir) setFolderOpen(node.path, !expanded.has(node.path));
    else openFile(node.path);
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (!current) return;
    const i = rows.indexOf(current);
    const node = current.node;
    const open = node.dir && expanded.has(node.path);
    const keys: Record<string, () => void> = {
      ArrowDown: () => focusRow(rows[i + 1]),
      ArrowUp: () => focusRow(rows[i - 1]),
      Home: () => focusRow(rows[0]),
      End: () => focusRow(rows[rows.length - 1]),
      ArrowRight: () => (open ? focusRow(rows[i + 1]) : node.dir && setFolderOpen(node.path, true)),
      ArrowLeft: () => (open ? setFolderOpen(node.path, false) : focusRow(rows.find((r) => r.node.path === current.parent))),
      Enter: () => (node.dir ? activate(node) : openFile(node.path, { focus: true })),
      " ": () => activate(node),
    };
    if (canEdit) {
      keys.F2 = () => setFileDialog({ kind: "rename", path: node.path, dir: node.dir });
      keys.Delete = () => setFileDialog({ kind: "delete", path: node.path, dir: node.dir });
    }
    const handler = keys[e.key];
    const handled = handler !== undefined && !e.ctrlKey && !e.metaKey && !e.altKey;
    if (handled) handler();
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  }

  // --- Drag and drop: tree rows move onto folders; files from the desktop upload. ---
  const dropFolder = (e: DragEvent) => {
    const el = (e.target as HTMLElement).closest<HTMLElement>("[data-path]");
    if (!el) return "";
    return el.dataset.dir === "true" ? el.dataset.path! : dirname(el.dataset.path!);
  };
  const accepts = (e: DragEvent) => canEdit && (e.dataTransfer.types.includes(DRAG_TYPE) || e.dataTransfer.types.includes("Files"));

  function onDragOver(e: DragEvent<HTMLDivElement>) {
    if (!accepts(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = e.dataTransfer.types.includes(DRAG_TYPE) ? "move" : "copy";
    setDropTarget(dropFolder(e));
  }

  function onDrop(e: DragEvent<HTMLDivElement>) {
    if (!accepts(e)) return;
    e.preventDefault();
    const folder = dropFolder(e);
    setDropTarget(null);
    const from = e.dataTransfer.getData(DRAG_TYPE);
    if (from) ops.moveInto(from, folder);
    else ops.upload(Array.from(e.dataTransfer.files), folder);
  }

  const menuDir = folderOf(menuTarget);

  return (
    <ContextMenu>
      <ContextMenuTrigger asChild>
        <div
          ref={treeRef}
          role="tree"
          aria-label="Project files"
          data-testid="file-tree"
          className={cn("min-h-full py-1 outline-none", dropTarget === "" && "bg-accent/60")}
          onKeyDown={onKeyDown}
          onFocus={(e) => {
            const path = (e.target as HTMLElement).dataset.path;
            if (path !== undefined) setFocused(path);
          }}
          onContextMenu={(e) => {
            const el = (e.target as HTMLElement).closest<HTMLElement>("[data-path]");
            const row = el ? rows.find((r) => r.node.path === el.dataset.path) : undefined;
            setMenuTarget(row?.node ?? null);
            if (row) setFocused(row.node.path);
          }}
          onDragOver={onDragOver}
          onDragLeave={(e) => {
            if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropTarget(null);
          }}
          onDrop={onDrop}
        >
          {rows.length === 0 && (
            <p className="px-3 py-4 text-[13px] text-muted-foreground">
              {canEdit ? "No files yet. Create one with the + buttons above, or drop files here." : "This project has no files."}
            </p>
          )}
          {rows.map((row) => (
            <TreeRow
              key={row.node.path}
              row={row}
              open={expanded.has(row.node.path)}
              selected={row.node.path === active}
              tabbable={row === current}
              dropTarget={row.node.dir && dropTarget === row.node.path}
              draggable={canEdit}
              onActivate={() => activate(row.node)}
            />
          ))}
        </div>
      </ContextMenuTrigger>
      <ContextMenuContent>
        {menuTarget && !menuTarget.dir && (
          <ContextMenuItem onSelect={() => openFile(menuTarget.path, { focus: true })}>
            <File /> Open
          </ContextMenuItem>
        )}
        {canEdit && (
          <>
            <ContextMenuItem onSelect={() => setFileDialog({ kind: "new-file", dir: menuDir })}>
              <FilePlus /> New file…
            </ContextMenuItem>
            <ContextMenuItem onSelect={() => setFileDialog({ kind: "new-folder", dir: menuDir })}>
              <FolderPlus /> New folder…
            </ContextMenuItem>
            <ContextMenuItem onSelect={() => pickUpload("files", menuDir)}>
              <Upload /> Upload files…
            </ContextMenuItem>
            <ContextMenuItem onSelect={() => pickUpload("folder", menuDir)}>
              <FolderUp /> Upload folder…
            </ContextMenuItem>
          </>
        )}
        {menuTarget && (
          <>
            <ContextMenuSeparator />
            <ContextMenuItem
              onSelect={() =>
                void navigator.clipboard.writeText(menuTarget.path).then(
                  () => toast.success("Path copied"),
                  () => toast.error("Couldn't copy the path"),
                )
              }
            >
              <Copy /> Copy path
            </ContextMenuItem>
            {!menuTarget.dir && (
              <ContextMenuItem asChild>
                <a href={api.fileUrl(project.id, menuTarget.path)} download>
                  <Download /> Download
                </a>
              </ContextMenuItem>
            )}
          </>
        )}
        {menuTarget && canEdit && (
          <>
            <ContextMenuItem onSelect={() => setFileDialog({ kind: "rename", path: menuTarget.path, dir: menuTarget.dir })}>
              <Pencil /> Rename…
            </ContextMenuItem>
            <ContextMenuSeparator />
            <ContextMenuItem
              destructive
              onSelect={() => setFileDialog({ kind: "delete", path: menuTarget.path, dir: menuTarget.dir })}
            >
              <Trash2 /> Delete…
            </ContextMenuItem>
          </>
        )}
        {!menuTarget && !canEdit && (
          <ContextMenuItem disabled>This project is read-only</ContextMenuItem>
        )}
      </ContextMenuContent>
    </ContextMenu>
  );
}

interface TreeRowProps {
  row: VisibleRow;
  open: boolean;
  selected: boolean;
  tabbable: boolean;
  dropTarget: boolean;
  draggable: boolean;
  onActivate: () => void;
}

function TreeRow({ row, open, selected, tabbable, dropTarget, draggable, onActivate }: TreeRowProps) {
  const { node, depth } = row;
  const Icon = iconFor(node, open);
  return (
    <div
      role="treeitem"
      aria-level={depth + 1}
      aria-posinset={row.index}
      aria-setsize={row.siblings}
      aria-expanded={node.dir ? open : undefined}
      aria-selected={selected}
      data-path={node.path}
      data-dir={node.dir}
      tabIndex={tabbable ? 0 : -1}
      draggable={draggable}
      onDragStart={(e) => {
        e.dataTransfer.setData(DRAG_TYPE, node.path);
        e.dataTransfer.effectAllowed = "move";
      }}
      onClick={onActivate}
      style={{ paddingLeft: 8 + depth * 12 }}
      className={cn(
        "flex h-7 cursor-pointer select-none items-center gap-1.5 pr-2 text-[13px] hover:bg-muted focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-ring",
        selected && "bg-accent text-accent-foreground",
        dropTarget && "bg-accent outline-1 -outline-offset-1 outline-ring",
      )}
    >
      {node.dir ? (
        <ChevronRight aria-hidden className={cn("size-3.5 shrink-0 text-muted-foreground transition-transform", open && "rotate-90")} />
      ) : (
        <span className="w-3.5 shrink-0" />
      )}
      <Icon aria-hidden className="size-4 shrink-0 text-muted-foreground" />
      <span className="truncate">{node.name}</span>
    </div>
  );
}
