import { useQuery } from "@tanstack/react-query";
import { CaseSensitive, FileText, Search } from "lucide-react";
import { useEffect, useMemo, useRef, useState } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Input } from "@/components/ui/input";
import { Loading } from "@/components/ui/spinner";
import { Tooltip } from "@/components/ui/tooltip";
import { api, type SearchMatch } from "@/lib/api";
import { basename, dirname } from "@/lib/paths";
import { cn } from "@/lib/utils";
import { useProjectSession, useLayout, useEditorTabs } from "../model";

/** Search across the project's files; results grouped by file open at the matching line. */
export function SearchPane() {
  const { project } = useProjectSession();
  const { searchFocus } = useLayout();
  const { openFile } = useEditorTabs();
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const [caseSensitive, setCaseSensitive] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  // Ctrl/Cmd-Shift-F puts the cursor in the box even when the pane is already open.
  useEffect(() => {
    if (searchFocus > 0) input.current?.select();
  }, [searchFocus]);

  // Search once typing pauses.
  useEffect(() => {
    const t = setTimeout(() => setQuery(text.trim()), 250);
    return () => clearTimeout(t);
  }, [text]);

  const results = useQuery({
    queryKey: ["search", project.id, query, caseSensitive],
    queryFn: ({ signal }) => api.search(project.id, query, caseSensitive, signal),
    enabled: query !== "",
    staleTime: 0,
  });

  const groups = useMemo(() => groupByFile(results.data?.matches ?? []), [results.data]);
  const total = results.data?.matches.length ?? 0;

  return (
    <div className="flex h-full min-h-0 flex-col" data-testid="search-pane">
      <div className="flex h-9 shrink-0 items-center border-b border-border px-3">
        <h2 className="text-xs font-semibold uppercase tracking-wide text-muted-foreground">Search</h2>
      </div>
      <form
        className="flex shrink-0 items-center gap-1 p-2"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(text.trim());
        }}
      >
        <Input
          ref={input}
          type="search"
          aria-label="Search in files"
          placeholder="Search in files"
          value={text}
          autoFocus={searchFocus > 0}
          onChange={(e) => setText(e.target.value)}
          className="h-8"
        />
        <Tooltip content="Match case">
          <Button
            variant="ghost"
            size="icon"
            aria-label="Match case"
            aria-pressed={caseSensitive}
            className={cn(caseSensitive && "bg-accent text-accent-foreground")}
            onClick={() => setCaseSensitive((v) => !v)}
          >
            <CaseSensitive />
          </Button>
        </Tooltip>
      </form>
      <div className="min-h-0 flex-1 overflow-auto pb-2" aria-live="polite">
        {query === "" && (
          <EmptyState icon={Search} title="Search in files">
            Type to find text across every file in the project.
          </EmptyState>
        )}
        {query !== "" && results.isPending && <Loading label="Searching" />}
        {results.isError && <ErrorState title="Search failed" error={results.error} onRetry={() => void results.refetch()} />}
        {results.isSuccess && total === 0 && (
          <p className="px-3 py-2 text-[13px] text-muted-foreground">No results for “{query}”.</p>
        )}
        {results.isSuccess && total > 0 && (
          <>
            <p className="px-3 pb-1 text-xs text-muted-foreground">
              {total} {total === 1 ? "result" : "results"} in {groups.length} {groups.length === 1 ? "file" : "files"}
              {results.data.truncated && " (showing the first ones)"}
            </p>
            <ul aria-label="Search results">
              {groups.map(([path, matches]) => (
                <li key={path}>
                  <div className="flex items-center gap-1.5 px-3 pt-2 text-[13px]" title={path}>
                    <FileText aria-hidden className="size-3.5 shrink-0 text-muted-foreground" />
                    <span className="truncate font-medium">{basename(path)}</span>
                    <span className="truncate text-xs text-muted-foreground">{dirname(path)}</span>
                  </div>
                  <ul>
                    {matches.map((match) => (
                      <li key={`${match.line}:${match.column}`}>
                        <button
                          type="button"
                          className="flex w-full items-baseline gap-2 px-3 py-0.5 pl-8 text-left font-mono text-xs hover:bg-muted focus-visible:-outline-offset-2"
                          onClick={() => openFile(path, { line: match.line, column: match.column })}
                          aria-label={`${path} line ${match.line}: ${match.text.trim()}`}
                        >
                          <span className="w-8 shrink-0 text-right text-muted-foreground">{match.line}</span>
                          <MatchText text={match.text} query={query} caseSensitive={caseSensitive} />
                        </button>
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </div>
  );
}

function groupByFile(matches: SearchMatch[]): [string, SearchMatch[]][] {
  const groups = new Map<string, SearchMatch[]>();
  for (const match of matches) {
    const list = groups.get(match.path);
    if (list) list.push(match);
    else groups.set(match.path, [match]);
  }
  return [...groups];
}

/** The matched line with the query highlighted (found in the text, not trusted from the column). */
function MatchText({ text, query, caseSensitive }: { text: string; query: string; caseSensitive: boolean }) {
  const line = text.trimStart();
  const at = caseSensitive ? line.indexOf(query) : line.toLowerCase().indexOf(query.toLowerCase());
  if (at < 0) return <span className="truncate">{line}</span>;
  return (
    <span className="truncate">
      {line.slice(0, at)}
      <mark className="rounded-sm bg-selection text-foreground">{line.slice(at, at + query.length)}</mark>
      {line.slice(at + query.length)}
    </span>
  );
}
