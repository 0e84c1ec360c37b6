import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ArrowLeft, ChevronLeft, ChevronRight, Eye, KeyRound, Plus, Table2, X } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Input, Select } from "@/components/ui/input";
import { Loading } from "@/components/ui/spinner";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { errorMessage } from "@/lib/api";
import { formatBytes } from "@/lib/format";
import { dbApi, type Cell, type DatabaseEnv, type DatabaseTable, type RowFilter, type RowsQuery, type TableRows } from "./api";
import { dbKeys, useTables } from "./queries";
import { ResultGrid } from "./ResultGrid";

const pageSize = 100;

interface TablesProps {
  projectId: string;
  env: DatabaseEnv;
  canEdit: boolean;
}

const qualified = (t: Pick<DatabaseTable, "schema" | "name">) => (t.schema === "public" ? t.name : `${t.schema}.${t.name}`);

/** The database's tables; one picked shows its rows, columns and indexes. */
export function TablesBrowser({ projectId, env, canEdit }: TablesProps) {
  const tables = useTables(projectId, env);
  const [picked, setPicked] = useState<string | null>(null);
  if (tables.isPending) return <Loading label="Loading tables" />;
  if (tables.isError) return <ErrorState error={tables.error} onRetry={() => void tables.refetch()} />;
  const table = tables.data.find((t) => qualified(t) === picked);
  if (table) return <TableView key={picked} projectId={projectId} env={env} table={table} canEdit={canEdit} onBack={() => setPicked(null)} />;
  if (tables.data.length === 0) {
    return (
      <EmptyState icon={Table2} title="No tables yet">
        Create one in the Console (<code className="font-mono">CREATE TABLE ...</code>), or let your app's migrations make
        them: its runs reach this database through <code className="font-mono">DATABASE_URL</code>.
      </EmptyState>
    );
  }
  return (
    <ul aria-label="Tables" className="h-full overflow-auto p-2 text-[13px]">
      {tables.data.map((t) => (
        <li key={qualified(t)}>
          <button
            type="button"
            onClick={() => setPicked(qualified(t))}
            className="flex w-full items-center gap-2 rounded-md px-2 py-1.5 text-left hover:bg-muted"
          >
            {t.kind === "view" ? (
              <Eye className="size-4 shrink-0 text-muted-foreground" aria-hidden />
            ) : (
              <Table2 className="size-4 shrink-0 text-muted-foreground" aria-hidden />
            )}
            <span className="min-w-0 flex-1 truncate font-mono">{qualified(t)}</span>
            {t.kind === "view" && <Badge>view</Badge>}
            <span className="text-xs text-muted-foreground">
              {t.rowCount !== null ? `${t.rowCount.toLocaleString()} rows` : `~${t.rowEstimate.toLocaleString()} rows`} · {formatBytes(t.sizeBytes)}
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}

interface TableViewProps extends TablesProps {
  table: DatabaseTable;
  onBack: () => void;
}

function TableView({ projectId, env, table, canEdit, onBack }: TableViewProps) {
  const [tab, setTab] = useState("rows");
  return (
    <div className="flex h-full min-h-0 flex-col">
      <div className="flex items-center gap-2 border-b border-border px-2 py-1">
        <Button variant="ghost" size="icon-sm" aria-label="All tables" onClick={onBack}>
          <ArrowLeft />
        </Button>
        <h3 className="min-w-0 truncate font-mono text-[13px] font-medium">{qualified(table)}</h3>
        <span className="ml-auto text-xs text-muted-foreground">{formatBytes(table.sizeBytes)}</span>
      </div>
      <Tabs value={tab} onValueChange={setTab} className="flex min-h-0 flex-1 flex-col">
        <TabsList aria-label={`Table ${table.name}`}>
          <TabsTrigger value="rows">Rows</TabsTrigger>
          <TabsTrigger value="columns">Columns ({table.columns.length})</TabsTrigger>
          <TabsTrigger value="indexes">Indexes ({table.indexes.length})</TabsTrigger>
        </TabsList>
        <TabsContent value="rows" className="flex min-h-0 flex-col">
          <TableRowsView projectId={projectId} env={env} table={table} canEdit={canEdit} />
        </TabsContent>
        <TabsContent value="columns" className="overflow-auto">
          <Columns table={table} />
        </TabsContent>
        <TabsContent value="indexes" className="overflow-auto">
          {table.indexes.length === 0 ? (
            <p className="p-3 text-[13px] text-muted-foreground">No indexes.</p>
          ) : (
            <ul aria-label="Indexes" className="grid gap-1 p-3 text-[13px]">
              {table.indexes.map((ix) => (
                <li key={ix.name} className="rounded-md border border-border px-2 py-1.5">
                  <p className="font-medium">{ix.name}</p>
                  <code className="font-mono text-xs break-all text-muted-foreground">{ix.definition}</code>
                </li>
              ))}
            </ul>
          )}
        </TabsContent>
      </Tabs>
    </div>
  );
}

function Columns({ table }: { table: DatabaseTable }) {
  return (
    <table aria-label="Columns" className="w-full text-left text-[13px]">
      <thead className="text-xs text-muted-foreground">
        <tr className="border-b border-border">
          <th className="px-3 py-1.5 font-medium">Name</th>
          <th className="px-3 py-1.5 font-medium">Type</th>
          <th className="px-3 py-1.5 font-medium">Nullable</th>
          <th className="px-3 py-1.5 font-medium">Default</th>
        </tr>
      </thead>
      <tbody>
        {table.columns.map((c) => (
          <tr key={c.name} className="border-b border-border/60">
            <td className="px-3 py-1.5 font-mono">
              <span className="inline-flex items-center gap-1">
                {c.name}
                {c.primaryKey && (
                  <Badge title="Primary key">
                    <KeyRound aria-hidden /> PK
                  </Badge>
                )}
              </span>
            </td>
            <td className="px-3 py-1.5 font-mono text-xs">{c.type}</td>
            <td className="px-3 py-1.5">{c.nullable ? "yes" : "no"}</td>
            <td className="px-3 py-1.5 font-mono text-xs break-all">{c.default ?? <span className="text-muted-foreground">none</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const ops: { value: RowFilter["op"]; label: string }[] = [
  { value: "eq", label: "=" },
  { value: "ne", label: "≠" },
  { value: "lt", label: "<" },
  { value: "le", label: "≤" },
  { value: "gt", label: ">" },
  { value: "ge", label: "≥" },
  { value: "like", label: "like" },
  { value: "ilike", label: "ilike" },
  { value: "null", label: "is null" },
  { value: "notnull", label: "is not null" },
];
const opLabel = (op: RowFilter["op"]) => ops.find((o) => o.value === op)?.label ?? op;
const takesValue = (op: RowFilter["op"]) => op !== "null" && op !== "notnull";

/** A page of the table's rows: ordered by a header, narrowed by filters, edited in place where the table has a primary key. */
function TableRowsView({ projectId, env, table, canEdit }: { projectId: string; env: DatabaseEnv; table: DatabaseTable; canEdit: boolean }) {
  const qc = useQueryClient();
  const [query, setQuery] = useState<RowsQuery>({ schema: table.schema, table: table.name, offset: 0, limit: pageSize, filters: [] });
  const key = dbKeys.rows(projectId, env, query);
  const rows = useQuery({ queryKey: key, queryFn: () => dbApi.rows(projectId, env, query), placeholderData: keepPreviousData });
  const pk = table.columns.filter((c) => c.primaryKey).map((c) => c.name);
  const editable = canEdit && table.kind === "table" && pk.length > 0;

  const edit = useMutation({
    mutationFn: ({ key: rowKey, column, value }: { key: Record<string, string>; row: number; column: string; value: Cell }) =>
      dbApi.editRow(projectId, env, table.schema, table.name, rowKey, { [column]: value }),
    onMutate: async ({ row, column, value }) => {
      await qc.cancelQueries({ queryKey: key });
      const before = qc.getQueryData<TableRows>(key);
      if (before) {
        const col = before.columns.findIndex((c) => c.name === column);
        qc.setQueryData<TableRows>(key, {
          ...before,
          rows: before.rows.map((r, i) => (i === row ? r.map((v, j) => (j === col ? value : v)) : r)),
        });
      }
      return { before };
    },
    onSuccess: (saved, { row }) => {
      // The row as the database has it now (a trigger or a cast may have changed what was typed).
      qc.setQueryData<TableRows>(key, (cur) =>
        cur && { ...cur, rows: cur.rows.map((r, i) => (i === row ? cur.columns.map((c, j) => (c.name in saved ? saved[c.name] : r[j])) : r)) },
      );
    },
    onError: (err, _vars, ctx) => {
      if (ctx?.before) qc.setQueryData(key, ctx.before);
      toast.error("Couldn't save the change", { description: errorMessage(err) });
    },
  });

  function saveCell(row: number, col: number, value: Cell) {
    const data = rows.data;
    if (!data) return;
    const rowKey: Record<string, string> = {};
    for (const name of pk) {
      const at = data.columns.findIndex((c) => c.name === name);
      rowKey[name] = data.rows[row][at] ?? "";
    }
    edit.mutate({ key: rowKey, row, column: data.columns[col].name, value });
  }

  const data = rows.data;
  const total = data?.total ?? 0;
  const last = Math.min(query.offset + (data?.rows.length ?? 0), total);
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <FilterBar
        table={table}
        filters={query.filters}
        onChange={(filters) => setQuery({ ...query, filters, offset: 0 })}
      />
      {rows.isPending ? (
        <Loading label="Loading rows" />
      ) : rows.isError ? (
        <ErrorState error={rows.error} onRetry={() => void rows.refetch()} />
      ) : (
        <ResultGrid
          label={`Rows of ${table.name}`}
          className="min-h-0 flex-1"
          columns={data!.columns}
          rows={data!.rows}
          firstRow={query.offset + 1}
          sort={query.order ? { column: query.order, desc: !!query.desc } : null}
          onSort={(column) =>
            setQuery({ ...query, offset: 0, order: column, desc: query.order === column ? !query.desc : false })
          }
          editable={() => editable}
          onEdit={saveCell}
          toolbar={
            <>
              <span data-testid="rows-range">
                {total === 0 ? "No rows" : `${(query.offset + 1).toLocaleString()}–${last.toLocaleString()} of ${total.toLocaleString()}`}
              </span>
              <Button
                variant="ghost"
                size="icon-sm"
                aria-label="Previous page"
                disabled={query.offset === 0}
                onClick={() => setQuery({ ...query, offset: Math.max(0, query.offset - pageSize) })}
              >
                <ChevronLeft />
              </Button>
              <Button
                variant="ghost"
                size="icon-sm"
                aria-label="Next page"
                disabled={last >= total}
                onClick={() => setQuery({ ...query, offset: query.offset + pageSize })}
              >
                <ChevronRight />
              </Button>
              {canEdit && !editable && table.kind === "table" && <span>Read only here: the table has no primary key.</span>}
              {editable && <span>Double-click a cell to edit it.</span>}
            </>
          }
        />
      )}
    </div>
  );
}

/** The filters in force, and a row to add one: column, operator, value. */
function FilterBar({ table, filters, onChange }: { table: DatabaseTable; filters: RowFilter[]; onChange: (f: RowFilter[]) => void }) {
  const [column, setColumn] = useState(table.columns[0]?.name ?? "");
  const [op, setOp] = useState<RowFilter["op"]>("eq");
  const [value, setValue] = useState("");
  function add(e: FormEvent) {
    e.preventDefault();
    if (!column) return;
    onChange([...filters, { column, op, value: takesValue(op) ? value : "" }]);
    setValue("");
  }
  return (
    <div className="grid gap-1 border-b border-border px-2 py-1.5">
      <form onSubmit={add} aria-label="Filter rows" className="flex flex-wrap items-center gap-1.5">
        <Select aria-label="Column" value={column} onChange={(e) => setColumn(e.target.value)} className="h-7 w-auto max-w-40 px-2 text-xs">
          {table.columns.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name}
            </option>
          ))}
        </Select>
        <Select aria-label="Operator" value={op} onChange={(e) => setOp(e.target.value as RowFilter["op"])} className="h-7 w-auto px-2 text-xs">
          {ops.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </Select>
        {takesValue(op) && (
          <Input
            aria-label="Value"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            placeholder="value"
            className="h-7 w-32 flex-1 px-2 text-xs"
          />
        )}
        <Button type="submit" size="sm" disabled={!column}>
          <Plus /> Filter
        </Button>
      </form>
      {filters.length > 0 && (
        <ul aria-label="Filters" className="flex flex-wrap gap-1">
          {filters.map((f, i) => (
            <li key={i}>
              <Badge className="text-foreground">
                <span className="font-mono">
                  {f.column} {opLabel(f.op)} {takesValue(f.op) && `'${f.value}'`}
                </span>
                <button type="button" aria-label={`Remove filter on ${f.column}`} onClick={() => onChange(filters.filter((_, j) => j !== i))}>
                  <X />
                </button>
              </Badge>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
