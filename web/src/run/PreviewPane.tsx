import { ExternalLink, Globe, Monitor, Play, RotateCw, Smartphone, Tablet } from "lucide-react";
import { useState } from "react";
import { Button, buttonVariants } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Spinner } from "@/components/ui/spinner";
import { Tooltip } from "@/components/ui/tooltip";
import type { Run } from "@/lib/api";
import { cn } from "@/lib/utils";
import { useProjectSession } from "@/workspace/model";
import { isActive, useRun } from "./runs";

/** The running app at its preview URL (another origin), in a sandboxed frame with its own URL bar. */
export function PreviewPane() {
  const { runs } = useProjectSession();
  const run = useRun(runs, (s) => s.run);
  const url = isActive(run) ? run!.previewUrl : null;
  // A new URL (a new run on another port) starts afresh at its own root.
  return url ? <PreviewFrame key={url} url={url} /> : <NothingToPreview run={run} />;
}

const widths = [
  { id: "full", label: "Full width", icon: Monitor, px: null },
  { id: "tablet", label: "Tablet (768 px)", icon: Tablet, px: 768 },
  { id: "phone", label: "Phone (390 px)", icon: Smartphone, px: 390 },
] as const;
type Width = (typeof widths)[number]["id"];

// What the frame may do: run the app's scripts and forms, keep its own
// origin's cookies and storage, and open popups, dialogs and downloads.
const SANDBOX = "allow-scripts allow-same-origin allow-forms allow-popups allow-modals allow-downloads";

/** A path typed in the URL bar, or a full URL pasted into it, as a path on the preview's origin. */
function toPath(input: string): string {
  const text = input.trim();
  try {
    const u = new URL(text);
    return u.pathname + u.search + u.hash;
  } catch {
    return text.startsWith("/") ? text : `/${text}`;
  }
}

function PreviewFrame({ url }: { url: string }) {
  const base = new URL(url);
  const [path, setPath] = useState(base.pathname + base.search);
  const [draft, setDraft] = useState(path);
  const [loads, setLoads] = useState(0);
  const [width, setWidth] = useState<Width>("full");
  const src = base.origin + path;
  const at = widths.findIndex((w) => w.id === width);
  const current = widths[at];
  const next = widths[(at + 1) % widths.length];
  const px = current.px;

  return (
    <div className="flex h-full min-h-0 flex-col">
      <div className="flex h-9 shrink-0 items-center gap-1 border-b border-border px-1.5">
        <Tooltip content="Reload">
          <Button variant="ghost" size="icon-sm" aria-label="Reload preview" onClick={() => setLoads((n) => n + 1)}>
            <RotateCw />
          </Button>
        </Tooltip>
        <form
          className="flex h-7 min-w-0 flex-1 items-center rounded-md border border-input bg-background has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-ring"
          onSubmit={(e) => {
            e.preventDefault();
            const next = toPath(draft);
            setPath(next);
            setDraft(next);
            setLoads((n) => n + 1);
          }}
        >
          <span data-testid="preview-host" className="min-w-0 truncate pl-2 text-xs text-muted-foreground" title={base.origin}>
            {base.host}
          </span>
          <input
            aria-label="Preview path"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            spellCheck={false}
            className="h-full w-0 min-w-10 flex-1 bg-transparent pr-2 font-mono text-xs text-foreground outline-none"
          />
        </form>
        {/* One button that steps through the widths, so the address keeps the room. */}
        <Tooltip content={`Width: ${current.label}; click for ${next.label}`}>
          <Button variant="ghost" size="icon-sm" aria-label={`Preview width: ${current.label}`} onClick={() => setWidth(next.id)}>
            <current.icon />
          </Button>
        </Tooltip>
        <Tooltip content="Open in a new tab">
          <a
            href={src}
            target="_blank"
            rel="noopener noreferrer"
            aria-label="Open preview in a new tab"
            className={buttonVariants({ variant: "ghost", size: "icon-sm" })}
          >
            <ExternalLink />
          </a>
        </Tooltip>
      </div>
      <div className="flex min-h-0 flex-1 justify-center overflow-auto bg-muted">
        <iframe
          key={loads}
          src={src}
          title="Preview"
          sandbox={SANDBOX}
          style={px ? { width: px } : undefined}
          className={cn("h-full shrink-0 border-0 bg-white", px ? "border-x border-border" : "w-full")}
        />
      </div>
    </div>
  );
}

/** Why there is no page to show, and what makes one appear. */
function NothingToPreview({ run }: { run: Run | null }) {
  const { runs, canEdit } = useProjectSession();
  const pending = useRun(runs, (s) => s.pending);
  const port = (
    <>
      listen on <code className="font-mono">$PORT</code> (which is 3000)
    </>
  );
  if (run && isActive(run)) {
    return (
      <EmptyState icon={Globe} title={run.status === "starting" ? "Starting your app…" : run.status === "building" ? "Building your app…" : "Waiting for your app to listen"} action={<Spinner label="Waiting for a port" />}>
        The preview appears as soon as your app starts to {port}.
      </EmptyState>
    );
  }
  return (
    <EmptyState
      icon={Globe}
      title={run ? "Your app isn't running" : "Nothing to preview yet"}
      action={
        canEdit && (
          <Button variant="run" onClick={() => void runs.start()} disabled={pending === "start"}>
            <Play className="fill-current" aria-hidden /> Run
          </Button>
        )
      }
    >
      Press Run; when your app starts to {port}, it shows here.
    </EmptyState>
  );
}
