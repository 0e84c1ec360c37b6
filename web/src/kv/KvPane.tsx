import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { Braces, Lock, Plus, Search } from "lucide-react";
import { useEffect, useState } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { LoadMore } from "@/components/ui/load-more";
import { Input } from "@/components/ui/input";
import { Loading } from "@/components/ui/spinner";
import { sizeText } from "@/database/bytes";
import { Segmented } from "@/deploy/Segmented";
import { timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { useProjectSession } from "@/workspace/model";
import { AddKeyDialog } from "./AddKeyDialog";
import { kvApi, kvKeys, type KvEnv, type KvUsage } from "./api";
import { Meter } from "@/components/ui/meter";
import { ValueEditor } from "./ValueEditor";

const envOptions = [
  { value: "dev", label: "dev" },
  { value: "prod", label: "prod" },
] as const;

/** The Key-value tab: the project's Replit-Database-compatible store, per environment. */
export function KvPane() {
  const { project, canEdit } = useProjectSession();
  const [env, setEnv] = useState<KvEnv>("dev");
  if (!canEdit) {
    return (
      <EmptyState icon={Lock} title="Key-value data is for editors">
        The project's code keeps data here through <code className="font-mono">REPLIT_DB_URL</code>. Only people who can
        edit the project see it.
      </EmptyState>
    );
  }
  return <KvStore key={env} projectId={project.id} env={env} onEnv={setEnv} />;
}

/** A value that follows value once it has stopped changing for ms. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return settled;
}

function KvStore({ projectId, env, onEnv }: { projectId: string; env: KvEnv; onEnv: (env: KvEnv) => void }) {
  const qc = useQueryClient();
  const [typed, setTyped] = useState("");
  const prefix = useDebounced(typed, 250);
  const [selected, setSelected] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const list = useInfiniteQuery({
    queryKey: kvKeys.list(projectId, env, prefix),
    queryFn: ({ pageParam }) => kvApi.list(projectId, env, prefix, pageParam),
    initialPageParam: "",
    getNextPageParam: (last) => last.next || undefined,
  });
  const changed = () => qc.invalidateQueries({ queryKey: kvKeys.env(projectId, env) });
  const entries = list.data?.pages.flatMap((p) => p.entries) ?? [];
  const usage = list.data?.pages[0]?.usage;
  return (
    <div className="flex h-full min-h-0 flex-col text-[13px]" data-testid="kv-pane">
      <section aria-label="Key-value store" className="grid min-w-0 gap-2 border-b border-border p-3">
        <div className="flex flex-wrap items-center gap-2">
          <Braces className="size-4 text-muted-foreground" aria-hidden />
          <h2 className="font-medium">Key-value store</h2>
          <Segmented label="Environment" value={env} onChange={onEnv} options={envOptions} />
          <Button size="sm" className="ml-auto" onClick={() => setAdding(true)}>
            <Plus /> Add key
          </Button>
        </div>
        {usage && <Usage usage={usage} />}
        <label className="relative block">
          <span className="sr-only">Search keys by prefix</span>
          <Search className="pointer-events-none absolute left-2.5 top-2.5 size-4 text-muted-foreground" aria-hidden />
          <Input
            type="search"
            value={typed}
            onChange={(e) => setTyped(e.target.value)}
            placeholder="Keys starting with…"
            className="pl-8"
          />
        </label>
      </section>
      <div className={cn("min-h-0 overflow-auto", selected ? "max-h-[40%] shrink-0" : "flex-1")}>
        {list.isPending && <Loading label="Loading keys" />}
        {list.isError && <ErrorState error={list.error} onRetry={() => void list.refetch()} />}
        {list.isSuccess && entries.length === 0 && <NoKeys env={env} prefix={prefix} />}
        {entries.length > 0 && (
          <ul aria-label="Keys" className="divide-y divide-border">
            {entries.map((e) => (
              <li key={e.key}>
                <button
                  type="button"
                  aria-current={selected === e.key ? "true" : undefined}
                  onClick={() => setSelected(e.key)}
                  className="flex w-full items-baseline gap-2 px-3 py-1.5 text-left hover:bg-muted focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-ring aria-[current=true]:bg-accent"
                >
                  <span className="min-w-0 flex-1 truncate font-mono">{e.key}</span>
                  <span className="shrink-0 text-xs text-muted-foreground">
                    {sizeText(e.size)} · {timeAgo(e.updated)}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
        <LoadMore pages={list} />
      </div>
      {selected && (
        <ValueEditor
          key={selected}
          projectId={projectId}
          env={env}
          entryKey={selected}
          onClose={() => setSelected(null)}
          onChanged={changed}
        />
      )}
      <AddKeyDialog
        open={adding}
        onOpenChange={setAdding}
        projectId={projectId}
        env={env}
        onAdded={(key) => {
          void changed();
          setSelected(key);
        }}
      />
    </div>
  );
}

/** Keys and bytes against the store's limits. */
function Usage({ usage }: { usage: KvUsage }) {
  const keys = usage.keys / usage.maxKeys;
  const bytes = usage.bytes / usage.maxBytes;
  const [value, max] = keys >= bytes ? [usage.keys, usage.maxKeys] : [usage.bytes, usage.maxBytes];
  const text = `${usage.keys.toLocaleString()} of ${usage.maxKeys.toLocaleString()} keys · ${sizeText(usage.bytes)} of ${sizeText(usage.maxBytes)}`;
  return (
    <div className="grid gap-1">
      <Meter label="Store usage" value={value} max={max} text={text} />
      <p className="text-xs text-muted-foreground" data-testid="kv-usage">
        {text}
      </p>
    </div>
  );
}

function NoKeys({ env, prefix }: { env: KvEnv; prefix: string }) {
  if (prefix) {
    return (
      <EmptyState icon={Search} title="No keys match">
        No key starts with <code className="font-mono">{prefix}</code>.
      </EmptyState>
    );
  }
  return (
    <EmptyState icon={Braces} title="No keys yet">
      {env === "dev" ? "Runs, shells and the agent's commands" : "Deployments"} get{" "}
      <code className="font-mono">REPLIT_DB_URL</code>: <code className="font-mono">@replit/database</code> (Node) and{" "}
      <code className="font-mono">replit.db</code> (Python) use it as they do on Replit. Or add a key here.
    </EmptyState>
  );
}

