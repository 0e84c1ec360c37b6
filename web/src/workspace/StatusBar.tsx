import { useQuery } from "@tanstack/react-query";
import { CircleAlert, Eye, Wifi, WifiOff } from "lucide-react";
import { useSyncExternalStore } from "react";
import { useDocs } from "@/editor/documents";
import { languageFor } from "@/editor/languages";
import { api } from "@/lib/api";
import { useSocketState } from "@/lib/socket";
import { cn } from "@/lib/utils";
import { useProjectSession } from "./model";

const saveLabels = {
  saved: "Saved",
  saving: "Saving…",
  unsaved: "Unsaved changes",
  error: "Not saved",
  offline: "Offline — changes kept",
} as const;

export function StatusBar() {
  const { store, canEdit, viewOnly } = useProjectSession();
  const active = useDocs(store, (s) => s.tabs.find((t) => t.path === s.active) ?? null);
  const cursor = useDocs(store, (s) => s.cursor);
  const editing = active?.status === "ready";

  return (
    <footer
      aria-label="Status bar"
      className="flex h-6 shrink-0 items-center gap-4 border-t border-border bg-panel px-3 text-xs text-muted-foreground"
    >
      {!canEdit && (
        <span className="inline-flex items-center gap-1">
          <Eye className="size-3" aria-hidden /> {viewOnly ? "View only" : "Read only"}
        </span>
      )}
      {editing && <span data-testid="language">{languageFor(active.path).label}</span>}
      {editing && cursor && (
        <span data-testid="cursor-position">
          Ln {cursor.line}, Col {cursor.column}
        </span>
      )}
      {active && canEdit && editing && (
        <span
          data-testid="save-status"
          role="status"
          title={active.saveError ?? undefined}
          className={cn(
            active.saveState === "error" && "inline-flex items-center gap-1 text-destructive-text",
            active.saveState === "offline" && "text-warning",
          )}
        >
          {active.saveState === "error" && <CircleAlert className="size-3" aria-hidden />}
          {saveLabels[active.saveState]}
        </span>
      )}
      <span className="ml-auto">
        <Connection />
      </span>
    </footer>
  );
}

function subscribeOnline(cb: () => void) {
  window.addEventListener("online", cb);
  window.addEventListener("offline", cb);
  return () => {
    window.removeEventListener("online", cb);
    window.removeEventListener("offline", cb);
  };
}

/**
 * Whether the browser can reach the server (the health endpoint, asked every
 * 20 s) and whether the workspace's live connection (console, shells) is up.
 */
function Connection() {
  const { socket } = useProjectSession();
  const state = useSocketState(socket);
  const online = useSyncExternalStore(subscribeOnline, () => navigator.onLine);
  const health = useQuery({
    queryKey: ["health"],
    queryFn: api.health,
    refetchInterval: 20_000,
    retry: false,
    staleTime: 0,
  });
  const ok = online && !health.isError;
  const label = !online
    ? "Offline"
    : health.isError
      ? "Server unreachable"
      : state === "reconnecting"
        ? "Reconnecting…"
        : health.isPending || state !== "open"
          ? "Connecting…"
          : "Connected";
  const content = (
    <>
      {ok ? <Wifi className="size-3" aria-hidden /> : <WifiOff className="size-3" aria-hidden />}
      {label}
    </>
  );
  if (ok && state === "reconnecting") {
    return (
      <button
        type="button"
        data-testid="connection"
        onClick={socket.reconnect}
        title="The live connection (shared editing, console, shells) dropped; your edits are kept. Click to retry now."
        className="inline-flex items-center gap-1 rounded px-1 text-warning hover:bg-muted"
      >
        {content}
      </button>
    );
  }
  return (
    <span data-testid="connection" className={cn("inline-flex items-center gap-1", !ok && "text-destructive-text")}>
      {content}
    </span>
  );
}
