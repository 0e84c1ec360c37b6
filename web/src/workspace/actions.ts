import {
  Bot,
  Braces,
  Database,
  Download,
  FilePlus,
  FileSearch,
  FolderPlus,
  FolderUp,
  Globe,
  HardDrive,
  History,
  Keyboard,
  LayoutDashboard,
  type LucideIcon,
  Play,
  Rocket,
  RotateCcw,
  Save,
  SaveAll,
  Search,
  Settings,
  Square,
  SquareTerminal,
  SunMoon,
  TerminalSquare,
  Upload,
  X,
} from "lucide-react";
import { useNavigate } from "react-router";
import { api } from "@/lib/api";
import { modKey } from "@/lib/keys";
import { toggleTheme } from "@/lib/theme";
import { READ_ONLY_RUN } from "@/run/RunControls";
import { isActive, useRun } from "@/run/runs";
import { useProjectSession, useLayout, useProjectFiles, useEditorTabs } from "./model";

export interface Action {
  id: string;
  title: string;
  group: "File" | "Go" | "View" | "Run" | "Help";
  icon: LucideIcon;
  /** Keys as shown to people, e.g. ["Ctrl", "S"]. */
  keys?: string[];
  run: () => void;
  /** Why the action can't run now, when it can't. */
  disabled?: string;
}

/** Every workspace action: the command palette lists them, the help dialog shows their keys. */
export function useActions(): Action[] {
  const { runs, canEdit, store, project } = useProjectSession();
  const { setOverlay, openSearch, showRight, openShell } = useLayout();
  const { setFileDialog, pickUpload } = useProjectFiles();
  const { requestClose } = useEditorTabs();
  const navigate = useNavigate();
  const running = useRun(runs, (s) => isActive(s.run));
  const cantRun = canEdit ? undefined : READ_ONLY_RUN;
  const active = () => store.getSnapshot().active;
  const saveActive = () => {
    const path = active();
    if (path) void store.save(path);
  };
  const activeDir = () => {
    const path = active();
    return path && path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  };

  const actions: Action[] = [
    { id: "save", title: "Save file", group: "File", icon: Save, keys: [modKey, "S"], run: saveActive },
    { id: "save-all", title: "Save all files", group: "File", icon: SaveAll, run: () => void store.saveAll() },
    {
      id: "close-tab",
      title: "Close tab",
      group: "File",
      icon: X,
      run: () => {
        const path = active();
        if (path) requestClose(path);
      },
    },
    {
      id: "download-zip",
      title: "Download project as zip",
      group: "File",
      icon: Download,
      run: () => window.location.assign(api.zipUrl(project.id)),
    },
    { id: "quick-open", title: "Go to file…", group: "Go", icon: FileSearch, keys: [modKey, "P"], run: () => setOverlay("quick-open") },
    { id: "search", title: "Search in files", group: "Go", icon: Search, keys: [modKey, "⇧", "F"], run: openSearch },
    { id: "dashboard", title: "Go to dashboard", group: "Go", icon: LayoutDashboard, run: () => navigate("/") },
    { id: "settings", title: "Open settings", group: "Go", icon: Settings, run: () => navigate("/settings") },
    { id: "show-preview", title: "Show preview", group: "View", icon: Globe, run: () => showRight("preview") },
    { id: "show-console", title: "Show console", group: "View", icon: TerminalSquare, run: () => showRight("console") },
    { id: "show-shell", title: "Open shell", group: "View", icon: SquareTerminal, keys: [modKey, "`"], run: openShell },
    { id: "show-agent", title: "Ask the agent", group: "View", icon: Bot, keys: [modKey, "I"], run: () => showRight("agent") },
    { id: "show-history", title: "Show history (checkpoints)", group: "View", icon: History, run: () => showRight("history") },
    { id: "show-database", title: "Database (SQL console, tables, backups)", group: "View", icon: Database, run: () => showRight("database") },
    { id: "show-kv", title: "Key-value store (REPLIT_DB_URL)", group: "View", icon: Braces, run: () => showRight("kv") },
    { id: "show-storage", title: "Object storage (buckets, files)", group: "View", icon: HardDrive, run: () => showRight("storage") },
    { id: "show-deploy", title: "Deploy (releases and the live site)", group: "View", icon: Rocket, run: () => showRight("deploy") },
    { id: "theme", title: "Toggle light/dark theme", group: "View", icon: SunMoon, run: toggleTheme },
    // Ctrl/Cmd-Enter runs again from the start, as on Replit; Stop is its own action and button.
    {
      id: "run",
      title: running ? "Restart" : "Run",
      group: "Run",
      icon: running ? RotateCcw : Play,
      keys: [modKey, "Enter"],
      run: () => void runs.start(),
      disabled: cantRun,
    },
    { id: "stop", title: "Stop", group: "Run", icon: Square, run: () => void runs.stop(), disabled: cantRun || (running ? undefined : "Nothing is running") },
    { id: "shortcuts", title: "Keyboard shortcuts", group: "Help", icon: Keyboard, keys: ["?"], run: () => setOverlay("help") },
  ];

  if (canEdit) {
    actions.splice(
      3,
      0,
      { id: "new-file", title: "New file…", group: "File", icon: FilePlus, run: () => setFileDialog({ kind: "new-file", dir: activeDir() }) },
      { id: "new-folder", title: "New folder…", group: "File", icon: FolderPlus, run: () => setFileDialog({ kind: "new-folder", dir: activeDir() }) },
      { id: "upload-files", title: "Upload files…", group: "File", icon: Upload, run: () => pickUpload("files", activeDir()) },
      { id: "upload-folder", title: "Upload folder…", group: "File", icon: FolderUp, run: () => pickUpload("folder", activeDir()) },
    );
  } else {
    return actions.filter((a) => a.id !== "save" && a.id !== "save-all");
  }
  return actions;
}
