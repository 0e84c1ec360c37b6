import { Eye, Plus, RotateCcw, SquareTerminal, X } from "lucide-react";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { usePresence } from "@/collab/presence";
import { Avatar } from "@/components/UserMenu";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Spinner } from "@/components/ui/spinner";
import { Tooltip } from "@/components/ui/tooltip";
import { fromBase64, toBase64, useSocketState, type ProjectSocket } from "@/lib/socket";
import { cn } from "@/lib/utils";
import { useTerminal } from "@/terminal/terminal";
import { useProjectSession, useLayout } from "@/workspace/model";
import { SHELL_KEYS } from "@/workspace/useShortcuts";
import { ShellStore, useShells, type ShellTab } from "./shells";

// The project's shells as tabs, each an interactive terminal in the sandbox
// over the workspace's socket. Shells are the project's: everyone who can edit
// sees them all, joins one by picking its tab, and types in it; a viewer
// watches, read-only. A shell outlives this page (a reload joins it again);
// closing it ends it for everyone. While following someone, their shell is shown.
// Loaded lazily with xterm.js.

type Session =
  | { kind: "waiting" }
  | { kind: "opening" }
  | { kind: "joining" }
  | { kind: "open" }
  | { kind: "exited"; code: number }
  | { kind: "error"; message: string };

export default function Shells() {
  const { project } = useProjectSession();
  // A public project's visitors read its files, not what its people do in their shells.
  if (project.role === "") {
    return (
      <EmptyState icon={SquareTerminal} title="Shells are for the project's members">
        Its owner and the people they share it with use shells here. Fork the project to run commands in a sandbox of
        your own.
      </EmptyState>
    );
  }
  return <ProjectShells />;
}

function ProjectShells() {
  const { socket, presence, canEdit } = useProjectSession();
  const { shellFocus } = useLayout();
  const [store] = useState(() => new ShellStore(socket));
  useEffect(() => store.attach(), [store]);
  const { loaded, tabs, active } = useShells(store);
  const following = usePresence(presence, (s) => s.following);
  const [picked, setPicked] = useState<string | null>(null);
  // Bumped when a tab is added or picked, so its terminal takes the keyboard.
  const [focusTick, setFocusTick] = useState(0);
  const autoOpened = useRef(false);

  const followed = following ? active[following.userId] : undefined;
  // Whom this tab follows decides, then a pick; else a shell already on screen here, so
  // that one that ends stays in view, saying so.
  const current =
    tabs.find((t) => t.id === followed) ??
    tabs.find((t) => t.id === picked) ??
    tabs.find((t) => t.shown) ??
    tabs.find((t) => t.live) ??
    tabs[0] ??
    null;
  const currentId = current?.id ?? null;

  const select = (id: string) => {
    if (followed && id !== followed) presence.unfollow();
    setPicked(id);
    setFocusTick((n) => n + 1);
  };
  const add = () => select(store.create());
  const close = (t: ShellTab) => {
    if (t.live && canEdit) socket.send({ type: "shell.close", id: t.id });
    store.dismiss(t.id);
  };
  const restart = (t: ShellTab) => {
    store.dismiss(t.id);
    add();
  };

  // Someone who can edit finds a shell ready: one is opened when the project has none.
  useEffect(() => {
    if (!canEdit || !loaded || tabs.length > 0 || autoOpened.current) return;
    autoOpened.current = true;
    setPicked(store.create());
    setFocusTick((n) => n + 1);
  }, [canEdit, loaded, tabs.length, store]);

  // The tab on screen keeps a terminal (so a shell keeps its place when left)...
  useEffect(() => {
    if (currentId) store.show(currentId);
  }, [store, currentId]);
  // ...and, once the server lists it, is the one those following this person see.
  const focusId = current?.live ? current.id : "";
  useEffect(() => {
    const id = focusId;
    const tell = () => socket.send({ type: "shell.focus", id });
    const off = socket.onOpen(tell);
    return () => {
      off();
      if (id) socket.send({ type: "shell.focus", id: "" });
    };
  }, [socket, focusId]);

  if (!canEdit && tabs.length === 0) {
    return (
      <EmptyState icon={SquareTerminal} title="Shell is for editors">
        A shell runs commands in this project's sandbox, so only people who can edit the project can open one. You're
        viewing it read only: when one of them opens a shell, you can watch it here.
      </EmptyState>
    );
  }

  return (
    <div className="flex h-full min-h-0 flex-col">
      <div className="flex h-8 shrink-0 items-stretch border-b border-border">
        <div role="tablist" aria-label="Shells" className="flex min-w-0 overflow-x-auto">
          {tabs.map((t) => (
            <ShellTabButton
              key={t.id}
              tab={t}
              selected={t.id === currentId}
              followedBy={t.id === followed ? following?.username : undefined}
              canClose={canEdit || !t.live}
              onSelect={() => select(t.id)}
              onClose={() => close(t)}
            />
          ))}
        </div>
        {canEdit && (
          <Tooltip content="New shell">
            <Button variant="ghost" size="icon-sm" className="m-0.5 size-7" aria-label="New shell" onClick={add}>
              <Plus />
            </Button>
          </Tooltip>
        )}
      </div>
      {tabs.length === 0 ? (
        loaded ? (
          <EmptyState
            icon={SquareTerminal}
            title="No shell open"
            action={
              <Button onClick={add}>
                <Plus /> New shell
              </Button>
            }
          >
            A shell runs commands in the project's sandbox, in the project's folder. Everyone who can edit the project
            sees it and can type in it.
          </EmptyState>
        ) : (
          <Bar tone="muted">
            <Spinner className="size-3.5" /> Loading the project's shells…
          </Bar>
        )
      ) : (
        tabs
          .filter((t) => t.id === currentId || t.shown)
          .map((t) => (
            <ShellView
              key={t.id}
              store={store}
              socket={socket}
              tab={t}
              canEdit={canEdit}
              active={t.id === currentId}
              focus={t.id === currentId ? focusTick + shellFocus : -1}
              onRestart={() => restart(t)}
              onClose={() => close(t)}
            />
          ))
      )}
    </div>
  );
}

interface ShellTabButtonProps {
  tab: ShellTab;
  selected: boolean;
  /** The name of the person this tab follows into this shell. */
  followedBy?: string;
  canClose: boolean;
  onSelect: () => void;
  onClose: () => void;
}

function ShellTabButton({ tab, selected, followedBy, canClose, onSelect, onClose }: ShellTabButtonProps) {
  const title = tab.title || "New shell";
  const who = tab.opener ? `Opened by ${tab.opener.username}` : "Starting";
  const closeLabel = tab.live ? `Close ${title} for everyone` : `Close ${title}`;
  return (
    <div
      className={cn(
        "group flex shrink-0 items-center border-r border-border text-xs",
        selected ? "bg-background text-foreground" : "text-muted-foreground hover:text-foreground",
      )}
    >
      <Tooltip content={followedBy ? `${who} · ${followedBy} is here` : who}>
        <button
          type="button"
          role="tab"
          aria-selected={selected}
          data-testid="shell-tab"
          className="flex h-full items-center gap-1.5 pr-1 pl-2.5 focus-visible:-outline-offset-2"
          onClick={onSelect}
        >
          {tab.opener ? (
            <Avatar name={tab.opener.username} className="size-4 text-[8px]" />
          ) : (
            <SquareTerminal className="size-3.5" aria-hidden />
          )}
          {title}
          {tab.opener && <span className="text-muted-foreground">· {tab.opener.username}</span>}
          {!tab.live && tab.opener && <span className="sr-only">(ended)</span>}
          {followedBy && <Eye className="size-3" aria-label={`Following ${followedBy}`} />}
        </button>
      </Tooltip>
      {canClose && (
        <Tooltip content={tab.live ? "Ends the shell for everyone" : "Close the tab"}>
          <button
            type="button"
            aria-label={closeLabel}
            className="mr-1 rounded p-0.5 opacity-70 hover:bg-muted hover:opacity-100"
            onClick={onClose}
          >
            <X className="size-3" />
          </button>
        </Tooltip>
      )}
    </div>
  );
}

interface ShellViewProps {
  store: ShellStore;
  socket: ProjectSocket;
  tab: ShellTab;
  canEdit: boolean;
  active: boolean;
  /** Changes when this shell should take the keyboard. */
  focus: number;
  onRestart: () => void;
  onClose: () => void;
}

function ShellView({ store, socket, tab, canEdit, active, focus, onRestart, onClose }: ShellViewProps) {
  const ref = useRef<HTMLDivElement>(null);
  const title = tab.title || "New shell";
  const term = useTerminal(ref, { label: `${title} terminal`, readOnly: !canEdit });
  const [session, setSession] = useState<Session>({ kind: "waiting" });
  const id = tab.id;

  useEffect(() => {
    if (!term) return;
    let requested = false;
    // Asked to open or join, no answer yet; opening: asked to open.
    let pending = false;
    let opening = false;
    let live = false;
    const end = (s: Session) => {
      live = pending = opening = false;
      setSession(s);
    };
    const off = [
      socket.on("shell.opened", (msg) => {
        if (msg.id !== id) return;
        live = true;
        pending = opening = false;
        setSession({ kind: "open" });
        // The terminal may have been fitted since it asked.
        socket.send({ type: "shell.resize", id, rows: term.rows, cols: term.cols });
      }),
      // Joined (or caught up after falling behind): the screen so far.
      socket.on("shell.attached", (msg) => {
        if (msg.id !== id) return;
        live = true;
        pending = opening = false;
        term.reset();
        term.write(fromBase64(msg.data));
        setSession({ kind: "open" });
      }),
      socket.on("shell.output", (msg) => {
        if (msg.id === id) term.write(fromBase64(msg.data));
      }),
      socket.on("shell.exit", (msg) => {
        if (msg.id !== id) return;
        term.write(`\r\n\x1b[2m[the shell exited with code ${msg.code}]\x1b[0m\r\n`);
        end({ kind: "exited", code: msg.code });
      }),
      // Refused while opening or joining; once open, only its end matters.
      socket.on("error", (msg) => {
        if (msg.id !== id) return;
        if (pending) end({ kind: "error", message: opening ? `Couldn't open a shell: ${msg.message}` : msg.message });
        else if (live && msg.code === "no_such_shell") end({ kind: "error", message: msg.message });
      }),
      socket.onDrop(() => {
        if (live) end({ kind: "waiting" });
      }),
      // Opened once, as soon as the socket is up; joined again after every reconnection.
      socket.onOpen(() => {
        opening = !requested && store.takeOpen(id);
        pending = true;
        if (opening) {
          socket.send({ type: "shell.open", id, rows: term.rows, cols: term.cols });
        } else {
          socket.send({ type: "shell.attach", id });
        }
        requested = true;
        setSession({ kind: opening ? "opening" : "joining" });
      }),
    ];
    const send = (bytes: Uint8Array | string) => {
      if (live && canEdit) socket.send({ type: "shell.input", id, data: toBase64(bytes) });
    };
    const disposables = [
      term.onData((d) => send(d)),
      // Some mouse reports arrive as one byte per character.
      term.onBinary((d) => send(Uint8Array.from(d, (c) => c.charCodeAt(0)))),
      term.onResize(({ rows, cols }) => {
        if (live && canEdit) socket.send({ type: "shell.resize", id, rows, cols });
      }),
    ];
    return () => {
      for (const u of off) u();
      for (const d of disposables) d.dispose();
      // The shell goes on for the others; this tab just stops watching it.
      if (requested) socket.send({ type: "shell.detach", id });
      setSession({ kind: "waiting" });
    };
  }, [term, socket, store, id, canEdit]);

  // The size of whoever types in it last wins: picking a shell makes it this terminal's.
  useEffect(() => {
    if (term && active && canEdit && session.kind === "open") socket.send({ type: "shell.resize", id, rows: term.rows, cols: term.cols });
  }, [term, active, canEdit, session.kind, socket, id]);

  useEffect(() => {
    if (term && active && focus >= 0) term.focus();
  }, [term, active, focus]);

  return (
    <div role="tabpanel" aria-label={title} className={cn("min-h-0 flex-1 flex-col bg-background", active ? "flex" : "hidden")}>
      {!canEdit && session.kind === "open" && (
        <Bar tone="muted" testId="shell-readonly">
          <Eye className="size-3.5" aria-hidden />
          Read-only: you're watching {tab.opener ? `${tab.opener.username}'s shell` : "this shell"}. Only editors can type in it.
        </Bar>
      )}
      <SessionBar session={session} canEdit={canEdit} onRestart={onRestart} onClose={onClose} />
      <div className="min-h-0 flex-1 py-1 pl-2">
        <div ref={ref} data-testid="shell-terminal" {...SHELL_KEYS} className="size-full overflow-hidden" />
      </div>
    </div>
  );
}

interface SessionBarProps {
  session: Session;
  canEdit: boolean;
  onRestart: () => void;
  onClose: () => void;
}

/** How the tab's shell stands, when that's anything but open. */
function SessionBar({ session, canEdit, onRestart, onClose }: SessionBarProps) {
  const { socket } = useProjectSession();
  const socketState = useSocketState(socket);
  if (session.kind === "open") return null;
  if (session.kind === "waiting" || session.kind === "opening" || session.kind === "joining") {
    const waiting = session.kind === "waiting" && socketState !== "open";
    return (
      <Bar tone={waiting && socketState === "reconnecting" ? "warning" : "muted"}>
        <Spinner className="size-3.5" />
        <span className="min-w-0 flex-1">
          {waiting
            ? "Waiting for the connection to the server… The shell keeps running on it meanwhile."
            : session.kind === "opening"
              ? "Starting a shell in the sandbox…"
              : "Joining the shell…"}
        </span>
        {waiting && socketState === "reconnecting" && (
          <Button size="sm" variant="ghost" onClick={() => socket.reconnect()}>
            <RotateCcw /> Reconnect now
          </Button>
        )}
      </Bar>
    );
  }
  const text = session.kind === "exited" ? `The shell exited (code ${session.code}).` : session.message;
  return (
    <Bar tone={session.kind === "exited" ? "muted" : "error"}>
      <span role="alert" className="min-w-0 flex-1">
        {text}
      </span>
      {canEdit && (
        <Button size="sm" onClick={onRestart}>
          <RotateCcw /> {session.kind === "exited" ? "New session" : "Try again"}
        </Button>
      )}
      <Button size="sm" variant="ghost" onClick={onClose}>
        Close tab
      </Button>
    </Bar>
  );
}

const barTone = {
  muted: "text-muted-foreground",
  warning: "text-warning",
  error: "text-destructive-text",
};

function Bar({ tone, testId = "shell-status", children }: { tone: keyof typeof barTone; testId?: string; children: ReactNode }) {
  return (
    <div data-testid={testId} className={cn("flex shrink-0 items-center gap-2 border-b border-border bg-panel px-3 py-1.5 text-xs", barTone[tone])}>
      {children}
    </div>
  );
}
