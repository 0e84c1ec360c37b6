import { useQuery, useQueryClient, type UseQueryResult } from "@tanstack/react-query";
import { createContext, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, type Context, type ReactNode } from "react";
import { useNavigate } from "react-router";
import { toast } from "sonner";
import { AgentStream } from "@/agent/stream";
import { LiveDocuments } from "@/collab/live";
import { PresenceStore } from "@/collab/presence";
import { DocumentStore } from "@/editor/documents";
import { api, type FileEntry, type Project } from "@/lib/api";
import { ProjectSocket } from "@/lib/socket";
import { useIsNarrow } from "@/lib/useMediaQuery";
import { runConfigKey, RunStore, startedListening } from "@/run/runs";
import { filesKey, useFileOps, type FileOps } from "./files/useFileOps";
import { useUploader } from "./files/Uploader";

export type LeftView = "files" | "search";
export type RightTab =
  | "assignment"
  | "preview"
  | "console"
  | "shell"
  | "agent"
  | "secrets"
  | "database"
  | "kv"
  | "storage"
  | "history"
  | "deploy"
  | "settings";
export type MobileTab = "files" | "code" | "preview" | "console" | "agent" | "deploy";
export type Overlay = "quick-open" | "palette" | "help" | null;
export type FileDialog =
  | { kind: "new-file" | "new-folder"; dir: string }
  | { kind: "rename" | "delete"; path: string; dir: boolean };

/** The project and its live services: one of each for the tab's life. */
export interface ProjectSession {
  project: Project;
  canEdit: boolean;
  /** A member who may only watch (the UI says "View only" rather than "Read only"). */
  viewOnly: boolean;
  store: DocumentStore;
  /** The tab's one WebSocket to the project. */
  socket: ProjectSocket;
  /** Who else is here, and whom this tab follows. */
  presence: PresenceStore;
  runs: RunStore;
  /** The project's latest agent run, as the socket streams it. */
  agent: AgentStream;
}

/** The project's files as listed, the tree's state and the file operations. */
export interface ProjectFiles {
  filesQuery: FilesListing;
  files: FileEntry[];
  ops: FileOps;
  pickUpload: (kind: "files" | "folder", dir: string) => void;
  /** Folders open in the tree (remembered per project). */
  expanded: ReadonlySet<string>;
  setFolderOpen: (path: string, open: boolean) => void;
  /** Opens every folder above path (and path itself when it is a folder). */
  revealInTree: (path: string, self?: boolean) => void;
  collapseAll: () => void;
  /** The tree row that last had focus; new files go into its folder. */
  treeFocus: string | null;
  setTreeFocus: (path: string | null) => void;
  fileDialog: FileDialog | null;
  setFileDialog: (d: FileDialog | null) => void;
}

/** The listing's query, narrowed to what the tree shows: a query's result is a new object every render, these fields are not. */
export type FilesListing = Pick<
  UseQueryResult<{ files: FileEntry[]; truncated: boolean }>,
  "data" | "error" | "isPending" | "isError" | "isSuccess" | "refetch"
>;

/** Which panes and overlays show, and what has keyboard focus. */
export interface Layout {
  narrow: boolean;
  leftView: LeftView;
  setLeftView: (v: LeftView) => void;
  rightTab: RightTab;
  showRight: (t: RightTab) => void;
  /** The app started listening while the Preview pane was out of sight: its tab gets a dot. */
  previewNews: boolean;
  /** Bumped to move keyboard focus into the shell (Ctrl/Cmd-`). */
  shellFocus: number;
  openShell: () => void;
  mobileTab: MobileTab;
  setMobileTab: (t: MobileTab) => void;
  overlay: Overlay;
  setOverlay: (o: Overlay) => void;
  /** Bumped to move keyboard focus into the search box. */
  searchFocus: number;
  openSearch: () => void;
}

/** Opening and closing the editor's tabs. */
export interface EditorTabs {
  openFile: (path: string, at?: { line?: number; column?: number; focus?: boolean }) => void;
  /** The tab whose close is waiting on "save changes?" */
  closing: string | null;
  requestClose: (path: string) => void;
  cancelClose: () => void;
}

// One context per concern, each value memoised, so a pane re-renders only when what it reads changes.
const SessionCtx = createContext<ProjectSession | null>(null);
const FilesCtx = createContext<ProjectFiles | null>(null);
const LayoutCtx = createContext<Layout | null>(null);
const TabsCtx = createContext<EditorTabs | null>(null);

function useRequired<T>(ctx: Context<T | null>, hook: string): T {
  const value = useContext(ctx);
  if (!value) throw new Error(`${hook} must be used inside <WorkspaceProvider>`);
  return value;
}

export const useProjectSession = () => useRequired(SessionCtx, "useProjectSession");
export const useProjectFiles = () => useRequired(FilesCtx, "useProjectFiles");
export const useLayout = () => useRequired(LayoutCtx, "useLayout");
export const useEditorTabs = () => useRequired(TabsCtx, "useEditorTabs");

export function WorkspaceProvider({ project, children }: { project: Project; children: ReactNode }) {
  const session = useSession(project);
  const layout = useLayoutState(session.runs);
  const { files, uploadInputs } = useFilesState(session);
  const tabs = useTabsState(session, layout.setMobileTab);

  return (
    <SessionCtx.Provider value={session}>
      <LayoutCtx.Provider value={layout}>
        <FilesCtx.Provider value={files}>
          <TabsCtx.Provider value={tabs}>
            {children}
            {uploadInputs}
          </TabsCtx.Provider>
        </FilesCtx.Provider>
      </LayoutCtx.Provider>
    </SessionCtx.Provider>
  );
}

/** Opens the project's socket and the stores that live on it. */
function useSession(project: Project): ProjectSession {
  const qc = useQueryClient();
  const [socket] = useState(() => new ProjectSocket(api.socketUrl(project.id)));
  const [store] = useState(
    () =>
      new DocumentStore(
        {
          read: (path, signal) => api.readFile(project.id, path, signal),
          write: (path, text) => api.writeFile(project.id, path, text),
          saved: () => {
            void qc.invalidateQueries({ queryKey: filesKey(project.id) });
            void qc.invalidateQueries({ queryKey: runConfigKey(project.id) });
          },
          saveFailed: (path, message) =>
            toast.error(`Couldn't save ${path}`, {
              description: `${message} Your changes are kept in the editor.`,
              action: { label: "Retry", onClick: () => void store.save(path) },
            }),
        },
        project.canEdit,
      ),
  );
  useEffect(() => () => store.dispose(), [store]);
  // Open documents are live: the server merges everyone's edits and writes the files.
  const [live] = useState(() => new LiveDocuments(socket, store));
  useEffect(() => live.attach(), [live]);
  const [presence] = useState(
    () => new PresenceStore(socket, (peer) => toast.info(`${peer.username} left`, { description: "You're no longer following them." })),
  );
  useEffect(() => presence.attach(), [presence]);
  useFollow(presence, store);
  useAccessRevoked(socket, project);

  // Leaving with unsaved changes asks first.
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (store.anyDirty) e.preventDefault();
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [store]);

  const [runs] = useState(() => new RunStore(project.id, socket));
  useEffect(() => runs.attach(), [runs]);
  const [agent] = useState(() => new AgentStream(socket));
  useEffect(() => agent.attach(), [agent]);
  useEffect(() => {
    socket.open();
    return () => socket.close();
  }, [socket]);

  // Anyone's file operations (theirs, a run's, the agent's) reach the tree as files.changed.
  // A run also writes files (ecode.toml, lockfiles): the tree catches up when its status moves.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      void qc.invalidateQueries({ queryKey: filesKey(project.id) });
      void qc.invalidateQueries({ queryKey: runConfigKey(project.id) });
    };
    const offFiles = socket.on("files.changed", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 50);
    });
    const offRuns = runs.onChange((run, prev) => {
      if (run.status !== prev?.status) refresh();
    });
    return () => {
      offFiles();
      offRuns();
      clearTimeout(timer);
    };
  }, [socket, runs, qc, project.id]);

  return useMemo(
    () => ({ project, canEdit: project.canEdit, viewOnly: project.role === "viewer", store, socket, presence, runs, agent }),
    [project, store, socket, presence, runs, agent],
  );
}

function useLayoutState(runs: RunStore): Layout {
  const narrow = useIsNarrow();
  const [leftView, setLeftView] = useState<LeftView>("files");
  // ?pane=agent (say) opens the workspace on that tool: "Build with AI" lands on the agent's steps.
  const [rightTab, setRightTab] = useState<RightTab>(() => paneFromUrl(rightTabs) ?? "console");
  const [mobileTab, setMobileTab] = useState<MobileTab>(() => paneFromUrl(mobileTabs) ?? "files");
  const [overlay, setOverlay] = useState<Overlay>(null);
  const [searchFocus, setSearchFocus] = useState(0);
  const [previewNews, setPreviewNews] = useState(false);
  const [shellFocus, setShellFocus] = useState(0);

  // When the app starts listening, the Preview takes the Console's place (the
  // editor keeps focus); over the Shell or the Agent it only marks its tab.
  const shown = useRef({ rightTab, mobileTab, narrow });
  useLayoutEffect(() => {
    shown.current = { rightTab, mobileTab, narrow };
  });
  useEffect(
    () =>
      runs.onChange((run, prev) => {
        if (!startedListening(run, prev)) return;
        const { rightTab, mobileTab, narrow } = shown.current;
        if (rightTab === "console") setRightTab("preview");
        if (mobileTab === "console") setMobileTab("preview");
        const tab = narrow ? mobileTab : rightTab;
        if (tab !== "console" && tab !== "preview") setPreviewNews(true);
      }),
    [runs],
  );

  // Built once: the actions stay the same objects, so panes that hold them don't re-render.
  const actions = useMemo(
    () => ({
      showRight: (t: RightTab) => {
        setRightTab(t);
        if (t === "preview" || t === "console" || t === "agent" || t === "deploy") setMobileTab(t);
        if (t === "preview") setPreviewNews(false);
      },
      openShell: () => {
        setRightTab("shell");
        setShellFocus((n) => n + 1);
      },
      setMobileTab: (t: MobileTab) => {
        setMobileTab(t);
        if (t === "preview") setPreviewNews(false);
      },
      openSearch: () => {
        setLeftView("search");
        setMobileTab("files");
        setSearchFocus((n) => n + 1);
      },
    }),
    [],
  );
  return useMemo(
    () => ({ narrow, leftView, setLeftView, rightTab, previewNews, shellFocus, mobileTab, overlay, setOverlay, searchFocus, ...actions }),
    [narrow, leftView, rightTab, previewNews, shellFocus, mobileTab, overlay, searchFocus, actions],
  );
}

function useTabsState({ store, presence }: ProjectSession, setMobileTab: (t: MobileTab) => void): EditorTabs {
  const [closing, setClosing] = useState<string | null>(null);
  return useMemo(
    () => ({
      openFile: (path, at) => {
        presence.unfollow();
        store.open(path, at);
        setMobileTab("code");
      },
      closing,
      requestClose: (path) => {
        if (store.isDirty(path)) setClosing(path);
        else store.close(path);
      },
      cancelClose: () => setClosing(null),
    }),
    [presence, store, setMobileTab, closing],
  );
}

function useFilesState({ project, store }: ProjectSession): { files: ProjectFiles; uploadInputs: ReactNode } {
  const { data, error, isPending, isError, isSuccess, refetch } = useQuery({
    queryKey: filesKey(project.id),
    queryFn: () => api.listFiles(project.id),
  });
  const filesQuery = useMemo(
    () => ({ data, error, isPending, isError, isSuccess, refetch }),
    [data, error, isPending, isError, isSuccess, refetch],
  );
  const files = data?.files ?? emptyFiles;
  const ops = useFileOps(project.id, store, files);
  const uploader = useUploader(ops.upload);
  const [fileDialog, setFileDialog] = useState<FileDialog | null>(null);
  const [treeFocus, setTreeFocus] = useState<string | null>(null);
  const [expanded, setExpanded] = useRememberedSet(`ecode.tree.${project.id}`);

  const tree = useMemo(
    () => ({
      setFolderOpen: (path: string, open: boolean) =>
        setExpanded((prev) => {
          if (prev.has(path) === open) return prev;
          const next = new Set(prev);
          if (open) next.add(path);
          else next.delete(path);
          return next;
        }),
      revealInTree: (path: string, self = false) =>
        setExpanded((prev) => {
          const parts = path.split("/");
          const dirs = parts.slice(0, self ? parts.length : -1).map((_, i) => parts.slice(0, i + 1).join("/"));
          if (dirs.every((d) => prev.has(d))) return prev;
          return new Set([...prev, ...dirs]);
        }),
      collapseAll: () => setExpanded(new Set()),
    }),
    [setExpanded],
  );
  const value = useMemo(
    () => ({ filesQuery, files, ops, pickUpload: uploader.pick, expanded, treeFocus, setTreeFocus, fileDialog, setFileDialog, ...tree }),
    [filesQuery, files, ops, uploader.pick, expanded, treeFocus, fileDialog, tree],
  );
  return { files: value, uploadInputs: uploader.inputs };
}

const emptyFiles: FileEntry[] = [];

/**
 * Taken off the project while in it: the server hangs up; this tab stops knocking and goes home.
 * Shut out by the team's allowlist: the page reloads the project, which says why.
 */
function useAccessRevoked(socket: ProjectSocket, project: Project) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  useEffect(
    () =>
      socket.on("error", (m) => {
        if (m.code === "ip_not_allowed") {
          socket.close();
          void qc.invalidateQueries({ queryKey: ["project", project.owner, project.slug] });
          return;
        }
        if (m.code !== "access_revoked") return;
        socket.close();
        void qc.invalidateQueries({ queryKey: ["projects"] });
        toast.error(`You no longer have access to ${project.name}`, { description: m.message, duration: Infinity });
        void navigate("/");
      }),
    [socket, project.name, project.owner, project.slug, qc, navigate],
  );
}

/** While following someone, their file opens here too (their cursor is kept in sight by the editor). */
function useFollow(presence: PresenceStore, store: DocumentStore) {
  useEffect(() => {
    let last: string | null = null;
    return presence.subscribe(() => {
      const file = presence.getSnapshot().following?.file ?? null;
      if (file === last) return;
      last = file;
      if (file && store.getSnapshot().active !== file) store.open(file);
    });
  }, [presence, store]);
}

const rightTabs: readonly RightTab[] = [
  "assignment",
  "preview",
  "console",
  "shell",
  "agent",
  "secrets",
  "database",
  "kv",
  "storage",
  "history",
  "deploy",
  "settings",
];
const mobileTabs: readonly MobileTab[] = ["files", "code", "preview", "console", "agent", "deploy"];

/** The ?pane= of the URL the workspace opened with, when it names one of tabs. */
function paneFromUrl<T extends string>(tabs: readonly T[]): T | null {
  const pane = new URLSearchParams(window.location.search).get("pane");
  return tabs.find((t) => t === pane) ?? null;
}

/** A set of strings kept in localStorage under key. */
function useRememberedSet(key: string) {
  const [value, setValue] = useState<ReadonlySet<string>>(() => {
    try {
      const stored: unknown = JSON.parse(localStorage.getItem(key) ?? "[]");
      return new Set(Array.isArray(stored) ? stored.filter((x): x is string => typeof x === "string") : []);
    } catch {
      return new Set();
    }
  });
  useEffect(() => {
    try {
      localStorage.setItem(key, JSON.stringify([...value]));
    } catch {
      // Storage full or disabled: the tree just won't remember.
    }
  }, [key, value]);
  return [value, setValue] as const;
}
