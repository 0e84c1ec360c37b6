import { Plus, RotateCcw, SquareTerminal, X } from "lucide-react";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Spinner } from "@/components/ui/spinner";
import { Tooltip } from "@/components/ui/tooltip";
import { fromBase64, toBase64, useSocketState, type ProjectSocket } from "@/lib/socket";
import { cn } from "@/lib/utils";
import { useTerminal } from "@/terminal/terminal";
import { useWorkspace } from "@/workspace/model";
import { SHELL_KEYS } from "@/workspace/useShortcuts";

// Shell tabs, each an interactive terminal in the sandbox over the
// workspace's socket (shell.open / input / resize / close). A shell lives as
// long as its socket: when the connection drops, the tab says so and offers
// to start a new one. Loaded lazily with xterm.js.

interface ShellTab {
  key: number;
  title: string;
}

type Session =
  | { kind: "opening" }
  | { kind: "open" }
  | { kind: "exited"; code: number }
  | { kind: "dropped" }
  | { kind: "error"; message: string };

let lastShellId = 0;
/** Shell ids are the client's to choose; unique within this page is enough. */
const newShellId = () => `t${++lastShellId}`;

export default function Shells() {
  const m = useWorkspace();
  const next = useRef(2);
  const [tabs, setTabs] = useState<ShellTab[]>([{ key: 1, title: "Shell 1" }]);
  const [active, setActive] = useState(1);
  // Bumped when a tab is added or picked, so its terminal takes the keyboard.
  const [picked, setPicked] = useState(0);

  const select = (key: number) => {
    setActive(key);
    setPicked((n) => n + 1);
  };
  const add = () => {
    const key = next.current++;
    setTabs((t) => [...t, { key, title: `Shell ${key}` }]);
    select(key);
  };
  const close = (key: number) => {
    const i = tabs.findIndex((t) => t.key === key);
    const rest = tabs.filter((t) => t.key !== key);
    setTabs(rest);
    if (key === active && rest.length > 0) select(rest[Math.min(i, rest.length - 1)].key);
  };

  return (
    <div className="flex h-full min-h-0 flex-col">
      <div className="flex h-8 shrink-0 items-stretch border-b border-border">
        <div role="tablist" aria-label="Shells" className="flex min-w-0 overflow-x-auto">
          {tabs.map((t) => (
            <div
              key={t.key}
              className={cn(
                "group flex shrink-0 items-center border-r border-border text-xs",
                t.key === active ? "bg-background text-foreground" : "text-muted-foreground hover:text-foreground",
              )}
            >
              <button
                type="button"
                role="tab"
                aria-selected={t.key === active}
                className="flex h-full items-center gap-1.5 pr-1 pl-2.5 focus-visible:-outline-offset-2"
                onClick={() => select(t.key)}
              >
                <SquareTerminal className="size-3.5" aria-hidden /> {t.title}
              </button>
              <button
                type="button"
                aria-label={`Close ${t.title}`}
                className="mr-1 rounded p-0.5 opacity-70 hover:bg-muted hover:opacity-100"
                onClick={() => close(t.key)}
              >
                <X className="size-3" />
              </button>
            </div>
          ))}
        </div>
        <Tooltip content="New shell">
          <Button variant="ghost" size="icon-sm" className="m-0.5 size-7" aria-label="New shell" onClick={add}>
            <Plus />
          </Button>
        </Tooltip>
      </div>
      {tabs.length === 0 ? (
        <EmptyState
          icon={SquareTerminal}
          title="No shell open"
          action={
            <Button onClick={add}>
              <Plus /> New shell
            </Button>
          }
        >
          A shell runs commands in the project's sandbox, in the project's folder.
        </EmptyState>
      ) : (
        tabs.map((t) => (
          <ShellView
            key={t.key}
            socket={m.socket}
            title={t.title}
            active={t.key === active}
            focus={t.key === active ? picked + m.shellFocus : -1}
            onClose={() => close(t.key)}
          />
        ))
      )}
    </div>
  );
}

interface ShellViewProps {
  socket: ProjectSocket;
  title: string;
  active: boolean;
  /** Changes when this shell should take the keyboard. */
  focus: number;
  onClose: () => void;
}

function ShellView({ socket, title, active, focus, onClose }: ShellViewProps) {
  const ref = useRef<HTMLDivElement>(null);
  const term = useTerminal(ref, { label: `${title} terminal` });
  const [session, setSession] = useState<Session>({ kind: "opening" });
  // Bumped to start a new shell in this tab after the last one ended.
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!term) return;
    const id = newShellId();
    let requested = false;
    let live = false;
    const end = (s: Session) => {
      live = false;
      setSession(s);
    };
    const off = [
      socket.on("shell.opened", (msg) => {
        if (msg.id !== id) return;
        live = true;
        setSession({ kind: "open" });
        // The terminal may have been fitted since it asked.
        socket.send({ type: "shell.resize", id, rows: term.rows, cols: term.cols });
      }),
      socket.on("shell.output", (msg) => {
        if (msg.id === id) term.write(fromBase64(msg.data));
      }),
      socket.on("shell.exit", (msg) => {
        if (msg.id !== id) return;
        term.write(`\r\n\x1b[2m[the shell exited with code ${msg.code}]\x1b[0m\r\n`);
        end({ kind: "exited", code: msg.code });
      }),
      socket.on("error", (msg) => {
        if (msg.id === id) end({ kind: "error", message: msg.message });
      }),
      socket.onDrop(() => {
        if (requested) end({ kind: "dropped" });
      }),
      // Asked once, as soon as the socket is up; a reconnection doesn't bring a dropped shell back.
      socket.onOpen(() => {
        if (requested) return;
        requested = true;
        socket.send({ type: "shell.open", id, rows: term.rows, cols: term.cols });
      }),
    ];
    const send = (bytes: Uint8Array | string) => {
      if (live) socket.send({ type: "shell.input", id, data: toBase64(bytes) });
    };
    const disposables = [
      term.onData((d) => send(d)),
      // Some mouse reports arrive as one byte per character.
      term.onBinary((d) => send(Uint8Array.from(d, (c) => c.charCodeAt(0)))),
      term.onResize(({ rows, cols }) => {
        if (live) socket.send({ type: "shell.resize", id, rows, cols });
      }),
    ];
    return () => {
      for (const u of off) u();
      for (const d of disposables) d.dispose();
      // Also when not yet opened: the server handles messages in order, so this closes it once it is.
      if (requested) socket.send({ type: "shell.close", id });
      setSession({ kind: "opening" });
    };
  }, [term, socket, attempt]);

  useEffect(() => {
    if (term && active && focus >= 0) term.focus();
  }, [term, active, focus, attempt]);

  const restart = () => {
    term?.write("\r\n");
    socket.reconnect();
    setAttempt((n) => n + 1);
  };

  return (
    <div role="tabpanel" aria-label={title} className={cn("min-h-0 flex-1 flex-col bg-background", active ? "flex" : "hidden")}>
      <SessionBar session={session} onRestart={restart} onClose={onClose} />
      <div className="min-h-0 flex-1 py-1 pl-2">
        <div ref={ref} data-testid="shell-terminal" {...SHELL_KEYS} className="size-full overflow-hidden" />
      </div>
    </div>
  );
}

/** How the tab's shell stands, when that's anything but open. */
function SessionBar({ session, onRestart, onClose }: { session: Session; onRestart: () => void; onClose: () => void }) {
  const m = useWorkspace();
  const socketState = useSocketState(m.socket);
  if (session.kind === "open") return null;
  if (session.kind === "opening") {
    return (
      <Bar tone="muted">
        <Spinner className="size-3.5" />
        {socketState === "open" ? "Starting a shell in the sandbox…" : "Waiting for the connection to the server…"}
      </Bar>
    );
  }
  const text =
    session.kind === "exited"
      ? `The shell exited (code ${session.code}).`
      : session.kind === "dropped"
        ? "The connection to the server dropped, and this shell ended with it."
        : `Couldn't open a shell: ${session.message}`;
  return (
    <Bar tone={session.kind === "exited" ? "muted" : session.kind === "dropped" ? "warning" : "error"}>
      <span role="alert" className="min-w-0 flex-1">
        {text}
      </span>
      <Button size="sm" onClick={onRestart}>
        <RotateCcw /> {session.kind === "dropped" ? "Reconnect" : session.kind === "exited" ? "New session" : "Try again"}
      </Button>
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

function Bar({ tone, children }: { tone: keyof typeof barTone; children: ReactNode }) {
  return (
    <div data-testid="shell-status" className={cn("flex shrink-0 items-center gap-2 border-b border-border bg-panel px-3 py-1.5 text-xs", barTone[tone])}>
      {children}
    </div>
  );
}
