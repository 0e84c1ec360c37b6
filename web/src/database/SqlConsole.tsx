import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Download, FileSpreadsheet, History, Lock, Play, TriangleAlert } from "lucide-react";
import { useState, type ReactNode } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Badge, Kbd } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Select } from "@/components/ui/input";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading, Spinner } from "@/components/ui/spinner";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { Segmented } from "@/deploy/Segmented";
import { formatDuration, timeAgo } from "@/lib/format";
import { modKey } from "@/lib/keys";
import { dbApi, SqlError, type DatabaseEnv, type QueryAnswer, type QueryResult } from "./api";
import { download, toCsv } from "./csv";
import { dbKeys, useHistory } from "./queries";
import { ResultGrid } from "./ResultGrid";
import { offsetOfPosition, SqlEditor } from "./SqlEditor";

/** How many rows of each result a run may keep: the server's default, and its most. */
const limits = [1_000, 10_000] as const;

interface ConsoleProps {
  projectId: string;
  env: DatabaseEnv;
  /** Viewers' statements run in a read-only transaction. */
  readOnly: boolean;
}

/** What was typed, kept per database so that a reload or another tab doesn't lose it. */
function useDraft(key: string) {
  const [text, setText] = useState(() => {
    try {
      return localStorage.getItem(key) ?? "";
    } catch {
      return "";
    }
  });
  function change(next: string) {
    setText(next);
    try {
      localStorage.setItem(key, next);
    } catch {
      // Private mode: the draft lasts as long as the page.
    }
  }
  return [text, change] as const;
}

/** Line and column (1-based) of an offset in the text, as people read an error's place. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/** The SQL console: an editor, Run, each statement's result as a grid, and the person's history. */
export function SqlConsole({ projectId, env, readOnly }: ConsoleProps) {
  const qc = useQueryClient();
  const [text, setText] = useDraft(`ecode.sql.${projectId}.${env}`);
  const [view, setView] = useState<"results" | "history">("results");
  // The text as it was run, to place an error in it after further typing.
  const [ran, setRan] = useState("");
  const [limit, setLimit] = useState<number>(limits[0]);
  const run = useMutation({
    mutationFn: (sql: string) => dbApi.query(projectId, env, sql, limit),
    onMutate: (sql) => {
      setRan(sql);
      setView("results");
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: dbKeys.history(projectId, env) });
      void qc.invalidateQueries({ queryKey: dbKeys.tables(projectId, env) });
    },
  });
  const sqlError = run.error instanceof SqlError ? run.error : null;
  const errorAt = sqlError?.position && ran === text ? offsetOfPosition(ran, sqlError.position) : null;

  function start(sql = text) {
    if (!sql.trim() || run.isPending) return;
    run.mutate(sql);
  }

  return (
    <div className="grid h-full min-h-0 grid-cols-[minmax(0,1fr)] grid-rows-[minmax(7rem,35%)_auto_minmax(0,1fr)]" data-testid="sql-console">
      <SqlEditor text={text} onChange={setText} onRun={start} errorAt={errorAt} label="SQL" />
      <div className="flex flex-wrap items-center gap-2 border-y border-border px-2 py-1.5">
        <Button
          variant="primary"
          size="sm"
          onClick={() => start()}
          disabled={!text.trim() || run.isPending}
          aria-keyshortcuts="Control+Enter Meta+Enter"
        >
          {run.isPending ? <Spinner className="text-current" /> : <Play />} Run
        </Button>
        <Kbd aria-hidden>{modKey}</Kbd>
        <Kbd aria-hidden>Enter</Kbd>
        <Select
          aria-label="Rows kept of each result"
          value={limit}
          onChange={(e) => setLimit(Number(e.target.value))}
          className="h-7 w-auto px-2 text-xs"
        >
          {limits.map((n) => (
            <option key={n} value={n}>
              {n.toLocaleString()} rows
            </option>
          ))}
        </Select>
        {readOnly && (
          <Badge title="Your statements run in a read-only transaction: you can read, not change">
            <Lock aria-hidden /> read-only
          </Badge>
        )}
        <span className="ml-auto" />
        <Segmented
          label="Console view"
          value={view}
          onChange={setView}
          options={[
            { value: "results", label: "Results" },
            { value: "history", label: "History" },
          ]}
        />
      </div>
      <div className="min-h-0">
        {view === "history" ? (
          <QueryHistory
            projectId={projectId}
            env={env}
            onPick={(statement) => {
              setText(statement);
              setView("results");
              run.reset();
            }}
          />
        ) : run.isPending ? (
          <Loading label="Running" />
        ) : sqlError ? (
          <SqlProblem error={sqlError} text={ran} />
        ) : run.isError ? (
          <ErrorState title="Couldn't run the statements" error={run.error} onRetry={() => start()} />
        ) : run.data ? (
          <Results key={run.submittedAt} answer={run.data} />
        ) : (
          <EmptyState icon={Play} title="Run SQL on this database">
            Type one or more statements and press Run ({modKey}+Enter). They run together in one transaction, as the project's
            own database role.
          </EmptyState>
        )}
      </div>
    </div>
  );
}

/** PostgreSQL's words for what went wrong, and where. */
function SqlProblem({ error, text }: { error: SqlError; text: string }) {
  const at = error.position ? lineAndColumn(text, offsetOfPosition(text, error.position)) : null;
  return (
    <div role="alert" data-testid="sql-error" className="grid content-start gap-1.5 overflow-auto p-3 text-[13px]">
      <p className="flex items-start gap-2 font-medium text-destructive-text">
        <TriangleAlert className="mt-0.5 size-4 shrink-0" aria-hidden />
        <span>
          ERROR: {error.message}
          {error.sqlState && <span className="ml-2 font-mono text-xs text-muted-foreground">SQLSTATE {error.sqlState}</span>}
        </span>
      </p>
      {at && (
        <p className="text-muted-foreground" data-testid="sql-error-position">
          At line {at.line}, column {at.column} (character {error.position}), marked in the editor.
        </p>
      )}
      {error.detail && <p className="whitespace-pre-wrap">Detail: {error.detail}</p>}
      {error.hint && <p className="whitespace-pre-wrap">Hint: {error.hint}</p>}
      <p className="text-xs text-muted-foreground">Nothing the text did was kept: its statements ran in one transaction, rolled back.</p>
    </div>
  );
}

/** Each statement's result; several show as tabs, the last one first. */
function Results({ answer }: { answer: QueryAnswer }) {
  const results = answer.results;
  const [picked, setPicked] = useState(String(results.length - 1));
  if (results.length === 0) {
    return <p className="p-3 text-[13px] text-muted-foreground">Done in {formatDuration(answer.tookMs)}; nothing to show.</p>;
  }
  const summary = (
    <>
      {answer.readOnly && <Badge>read-only</Badge>}
      <span data-testid="query-took">{formatDuration(answer.tookMs)}</span>
    </>
  );
  return (
    <div className="flex h-full min-h-0 flex-col">
      {answer.notices.length > 0 && (
        <ul aria-label="Notices" className="border-b border-border px-3 py-1 font-mono text-xs text-muted-foreground">
          {answer.notices.map((n, i) => (
            <li key={i}>{n}</li>
          ))}
        </ul>
      )}
      {results.length === 1 ? (
        <ResultView result={results[0]} n={1} summary={summary} />
      ) : (
        <Tabs value={picked} onValueChange={setPicked} className="flex min-h-0 flex-1 flex-col">
          <TabsList aria-label="Results">
            {results.map((r, i) => (
              <TabsTrigger key={i} value={String(i)}>
                {i + 1}. {r.command || "result"}
              </TabsTrigger>
            ))}
          </TabsList>
          {results.map((r, i) => (
            <TabsContent key={i} value={String(i)} className="flex min-h-0 flex-col">
              <ResultView result={r} n={i + 1} summary={summary} />
            </TabsContent>
          ))}
        </Tabs>
      )}
    </div>
  );
}

function ResultView({ result, n, summary }: { result: QueryResult; n: number; summary: ReactNode }) {
  const { columns, rows } = result;
  if (columns.length === 0) {
    return (
      <p className="flex items-center gap-2 p-3 font-mono text-[13px]" data-testid="query-command">
        {result.command} <span className="font-sans text-xs text-muted-foreground">{summary}</span>
      </p>
    );
  }
  const csv = () => toCsv(columns, rows);
  return (
    <ResultGrid
      label={`Result ${n}`}
      columns={columns}
      rows={rows}
      className="h-full"
      toolbar={
        <>
          <span className="font-mono text-foreground">{result.command}</span>
          <span data-testid="row-count" title={result.truncated ? "Keep more rows per result, or narrow the query with WHERE or LIMIT" : undefined}>
            {result.truncated
              ? `Showing the first ${rows.length.toLocaleString()} of ${result.rowCount.toLocaleString()} rows`
              : `${result.rowCount.toLocaleString()} ${result.rowCount === 1 ? "row" : "rows"}`}
          </span>
          {summary}
          <Button variant="ghost" size="sm" onClick={() => void copyCsv(csv())}>
            <FileSpreadsheet /> Copy as CSV
          </Button>
          <Button variant="ghost" size="sm" onClick={() => download(`result-${n}.csv`, new Blob([csv()], { type: "text/csv" }))}>
            <Download /> Export CSV
          </Button>
        </>
      }
    />
  );
}

async function copyCsv(text: string) {
  try {
    await navigator.clipboard.writeText(text);
    toast.success("Rows copied as CSV");
  } catch {
    toast.error("Couldn't copy automatically", { description: "Use Export CSV to save them instead." });
  }
}

/** The person's statements on this database, newest first; one picked goes back in the editor. */
function QueryHistory({ projectId, env, onPick }: { projectId: string; env: DatabaseEnv; onPick: (statement: string) => void }) {
  const history = useHistory(projectId, env);
  if (history.isPending) return <Loading label="Loading history" />;
  if (history.isError) return <ErrorState error={history.error} onRetry={() => void history.refetch()} />;
  if (history.data.length === 0) {
    return (
      <EmptyState icon={History} title="No statements yet">
        What you run here is kept (your last 100), to run again.
      </EmptyState>
    );
  }
  return (
    <ul aria-label="History" className="h-full overflow-auto">
      {history.data.map((q) => (
        <li key={q.id} className="border-b border-border/60">
          <button
            type="button"
            onClick={() => onPick(q.statement)}
            className="grid w-full gap-0.5 px-3 py-1.5 text-left hover:bg-muted focus-visible:outline-offset-[-2px]"
          >
            <code className="line-clamp-2 font-mono text-xs break-all whitespace-pre-wrap">{q.statement}</code>
            <span className="text-[11px] text-muted-foreground">
              {timeAgo(q.createdAt)} · {formatDuration(q.tookMs)} ·{" "}
              {q.error ? <span className="text-destructive-text">{q.error}</span> : `${q.rowCount.toLocaleString()} rows`}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
