import { useVirtualizer } from "@tanstack/react-virtual";
import { ArrowDown, ArrowUp, Copy } from "lucide-react";
import { useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { cn } from "@/lib/utils";
import type { Cell, QueryColumn } from "./api";

const rowHeight = 28;
const numberWidth = 56;

interface Position {
  row: number;
  col: number;
}

interface ResultGridProps {
  /** The grid's accessible name. */
  label: string;
  columns: readonly QueryColumn[];
  rows: readonly Cell[][];
  /** The number shown beside the first row (a page further on starts later). */
  firstRow?: number;
  /** Which column the rows are ordered by; with onSort, its header says so. */
  sort?: { column: string; desc: boolean } | null;
  onSort?: (column: string) => void;
  /** Whether this cell may be edited; with onEdit, a double-click (or Enter) edits it. */
  editable?: (col: number) => boolean;
  onEdit?: (row: number, col: number, value: Cell) => void;
  /** Shown before the grid's own actions, on its toolbar. */
  toolbar?: ReactNode;
  className?: string;
}

/** How wide a column starts: enough for its header and its first rows, within bounds. */
function columnWidths(columns: readonly QueryColumn[], rows: readonly Cell[][]): number[] {
  return columns.map((c, i) => {
    let chars = Math.max(c.name.length, c.type.length + 2);
    for (const row of rows.slice(0, 50)) chars = Math.max(chars, Math.min(row[i]?.length ?? 4, 60));
    return Math.min(Math.max(chars * 7.5 + 24, 80), 420);
  });
}

/** A cell's text on one line: line breaks and tabs shown as symbols, long values cut. */
function shown(v: string): string {
  return (v.length > 500 ? `${v.slice(0, 500)}…` : v).replace(/\r?\n/g, "↵").replace(/\t/g, "→");
}

async function copyText(text: string, what: string) {
  try {
    await navigator.clipboard.writeText(text);
    toast.success(`${what} copied`);
  } catch {
    toast.error("Couldn't copy automatically", { description: "Select the text and copy it by hand." });
  }
}

/**
 * Rows of a result or a table as a grid with typed column headers. Only the rows in sight are
 * rendered, so ten thousand scroll smoothly. Arrow keys move the selected cell, Ctrl/Cmd-C copies it.
 */
export function ResultGrid({ label, columns, rows, firstRow = 1, sort, onSort, editable, onEdit, toolbar, className }: ResultGridProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [selected, setSelected] = useState<Position | null>(null);
  const [editing, setEditing] = useState<Position | null>(null);
  const widths = useMemo(() => columnWidths(columns, rows), [columns, rows]);
  const template = `${numberWidth}px ${widths.map((w) => `${w}px`).join(" ")}`;
  const width = numberWidth + widths.reduce((a, b) => a + b, 0);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 12,
  });
  const at = selected && selected.row < rows.length && selected.col < columns.length ? selected : null;
  const canEdit = (col: number) => !!onEdit && (editable?.(col) ?? false);

  function select(p: Position) {
    setSelected(p);
    virtual.scrollToIndex(p.row);
  }

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    if (editing || rows.length === 0 || columns.length === 0) return;
    const p = at ?? { row: 0, col: 0 };
    const moves: Record<string, Position> = {
      ArrowDown: { row: Math.min(p.row + 1, rows.length - 1), col: p.col },
      ArrowUp: { row: Math.max(p.row - 1, 0), col: p.col },
      ArrowRight: { row: p.row, col: Math.min(p.col + 1, columns.length - 1) },
      ArrowLeft: { row: p.row, col: Math.max(p.col - 1, 0) },
      PageDown: { row: Math.min(p.row + 20, rows.length - 1), col: p.col },
      PageUp: { row: Math.max(p.row - 20, 0), col: p.col },
    };
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      select(at ? move : p);
    } else if (at && (e.ctrlKey || e.metaKey) && e.key === "c") {
      e.preventDefault();
      void copyText(rows[at.row][at.col] ?? "", "Cell");
    } else if (at && (e.key === "Enter" || e.key === "F2") && canEdit(at.col)) {
      e.preventDefault();
      setEditing(at);
    }
  }

  return (
    <div className={cn("flex min-h-0 flex-col", className)}>
      <div className="flex flex-wrap items-center gap-2 border-b border-border px-2 py-1 text-xs text-muted-foreground">
        {toolbar}
        <Button
          variant="ghost"
          size="sm"
          className="ml-auto"
          disabled={!at}
          onClick={() => at && void copyText(rows[at.row][at.col] ?? "", "Cell")}
        >
          <Copy /> Copy cell
        </Button>
      </div>
      <div
        ref={scroller}
        role="grid"
        aria-label={label}
        aria-rowcount={rows.length + 1}
        aria-colcount={columns.length + 1}
        tabIndex={0}
        onKeyDown={onKeyDown}
        className="relative min-h-24 flex-1 overflow-auto font-mono text-xs focus-visible:outline-offset-[-2px]"
      >
        <div style={{ width }} className="min-w-full">
          <div
            role="row"
            aria-rowindex={1}
            className="sticky top-0 z-10 grid border-b border-border bg-panel"
            style={{ gridTemplateColumns: template }}
          >
            <span role="columnheader" className="px-2 py-1 text-right text-muted-foreground">
              #
            </span>
            {columns.map((c, i) => (
              // Names repeat (SELECT 1, 1 gives two ?column?), so the place is the key.
              <HeaderCell key={i} column={c} sort={sort} onSort={onSort} />
            ))}
          </div>
          <div role="rowgroup" className="relative" style={{ height: virtual.getTotalSize() }}>
            {virtual.getVirtualItems().map((item) => {
              const row = rows[item.index];
              return (
                <div
                  key={item.key}
                  role="row"
                  aria-rowindex={item.index + 2}
                  className="absolute left-0 grid w-full border-b border-border/60 hover:bg-muted/60"
                  style={{ gridTemplateColumns: template, height: rowHeight, transform: `translateY(${item.start}px)` }}
                >
                  <span className="px-2 py-1.5 text-right text-muted-foreground select-none">{firstRow + item.index}</span>
                  {row.map((v, col) => {
                    const here = at?.row === item.index && at.col === col;
                    if (editing?.row === item.index && editing.col === col) {
                      return (
                        <CellEditor
                          key={col}
                          initial={v}
                          column={columns[col]}
                          onDone={(next) => {
                            setEditing(null);
                            scroller.current?.focus();
                            if (next !== undefined && next !== v) onEdit?.(item.index, col, next);
                          }}
                        />
                      );
                    }
                    return (
                      <span
                        key={col}
                        role="gridcell"
                        aria-selected={here}
                        title={v === null ? "NULL" : v.length > 40 ? v.slice(0, 1000) : undefined}
                        onClick={() => setSelected({ row: item.index, col })}
                        onDoubleClick={() => canEdit(col) && setEditing({ row: item.index, col })}
                        className={cn(
                          "overflow-hidden px-2 py-1.5 text-ellipsis whitespace-pre",
                          here && "bg-accent outline-1 -outline-offset-1 outline-ring",
                        )}
                      >
                        {v === null ? (
                          <span data-null className="text-muted-foreground/70 italic">
                            NULL
                          </span>
                        ) : (
                          shown(v)
                        )}
                      </span>
                    );
                  })}
                </div>
              );
            })}
          </div>
        </div>
        {rows.length === 0 && <p className="px-3 py-4 font-sans text-muted-foreground">No rows.</p>}
      </div>
    </div>
  );
}

function HeaderCell({ column, sort, onSort }: { column: QueryColumn; sort?: ResultGridProps["sort"]; onSort?: (c: string) => void }) {
  const sorted = sort?.column === column.name ? sort : null;
  const content = (
    <>
      <span className="truncate font-semibold text-foreground">{column.name}</span>
      <span className="truncate text-[11px] font-normal text-muted-foreground">{column.type}</span>
      {sorted && (sorted.desc ? <ArrowDown className="size-3 shrink-0" aria-hidden /> : <ArrowUp className="size-3 shrink-0" aria-hidden />)}
    </>
  );
  return (
    <span
      role="columnheader"
      aria-sort={sorted ? (sorted.desc ? "descending" : "ascending") : undefined}
      className="min-w-0 border-l border-border/60"
    >
      {onSort ? (
        <button
          type="button"
          title={`Order by ${column.name}`}
          onClick={() => onSort(column.name)}
          className="flex w-full items-baseline gap-1.5 px-2 py-1 text-left hover:bg-muted focus-visible:outline-offset-[-2px]"
        >
          {content}
        </button>
      ) : (
        <span className="flex items-baseline gap-1.5 px-2 py-1">{content}</span>
      )}
    </span>
  );
}

/** Editing one cell: Enter saves, Escape leaves it as it was; NULL sets it to null. */
function CellEditor({ initial, column, onDone }: { initial: Cell; column: QueryColumn; onDone: (value?: Cell) => void }) {
  const [text, setText] = useState(initial ?? "");
  return (
    <span role="gridcell" className="flex min-w-0 items-center gap-0.5 bg-background">
      <input
        autoFocus
        aria-label={`New value of ${column.name}`}
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            onDone(text);
          } else if (e.key === "Escape") {
            e.preventDefault();
            onDone();
          }
        }}
        onBlur={(e) => {
          // Leaving for the NULL button is not leaving the cell; leaving otherwise keeps the value as it was.
          if (!(e.relatedTarget instanceof HTMLElement && e.relatedTarget.dataset.setNull !== undefined)) onDone();
        }}
        className="h-full min-w-0 flex-1 border border-ring bg-background px-1.5 text-xs outline-none"
      />
      <button
        type="button"
        data-set-null=""
        onClick={() => onDone(null)}
        className="shrink-0 rounded border border-border px-1 text-[10px] text-muted-foreground hover:text-foreground"
      >
        NULL
      </button>
    </span>
  );
}
