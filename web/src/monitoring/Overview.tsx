import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Activity } from "lucide-react";
import { lazy, useMemo, type ReactNode } from "react";
import { ErrorState } from "@/components/ErrorState";
import { Loading } from "@/components/ui/spinner";
import { ChartCard } from "@/deploy/MetricsCharts";
import type { ChartSeries } from "@/deploy/TimeChart";
import { monitoringApi, monitoringKeys, type FailedRequest, type Overview as Data, type Range, type RouteStats, type Scope } from "./api";
import { axisCount, countText, latencyText, rangeWords, shareText } from "./format";
import { NoData } from "./NoData";
import { Section } from "./Section";
import { Vitals } from "./Vitals";

// uPlot loads with the first chart, not with the workspace.
const TimeChart = lazy(() => import("@/deploy/TimeChart"));

/** The scope's traffic, latency, what browsers reported and its Web Vitals over the range. */
export function Overview({ scope, range, onOpenSettings }: { scope: Scope; range: Range; onOpenSettings?: () => void }) {
  const state = useQuery({
    queryKey: monitoringKeys.overview(scope, range),
    queryFn: () => monitoringApi.overview(scope, range),
    // Rollups move every 10 s; a dashboard left open catches up each minute.
    refetchInterval: 60_000,
    placeholderData: keepPreviousData,
  });
  if (state.isPending) return <Loading label="Loading the overview" />;
  if (state.isError) return <ErrorState error={state.error} onRetry={() => void state.refetch()} />;
  const d = state.data;
  const { totals } = d;
  if (totals.requests === 0 && totals.pageviews === 0 && totals.browserErrors === 0) {
    return <NoData scope={scope} icon={Activity} title={`Nothing recorded in ${rangeWords(range)}`} onOpenSettings={onOpenSettings} />;
  }
  return (
    <div className="grid gap-4" data-testid="monitoring-overview">
      <dl className="grid grid-cols-[repeat(auto-fill,minmax(8rem,1fr))] gap-2">
        <Total label="Requests" value={countText(totals.requests)} />
        <Total label="Server errors (5xx)" value={countText(totals.errors)} note={shareText(totals.errors, totals.requests)} />
        <Total label="Page views" value={countText(totals.pageviews)} />
        <Total label="Browser errors" value={countText(totals.browserErrors)} />
        <Total label="Sessions" value={countText(totals.sessions)} />
      </dl>
      <Charts data={d} words={rangeWords(range)} />
      <Vitals vitals={d.vitals} />
      <SlowestRoutes routes={d.routes} />
      <FailedRequests requests={d.failedRequests} />
    </div>
  );
}

function Total({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div className="grid gap-0.5 rounded-md border border-border p-2">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="text-lg font-semibold tabular-nums">
        {value}
        {note && <span className="ml-1.5 text-xs font-normal text-muted-foreground">{note}</span>}
      </dd>
    </div>
  );
}

function Charts({ data, words }: { data: Data; words: string }) {
  const c = useMemo(() => columns(data), [data]);
  const { totals } = data;
  const worstP95 = Math.max(0, ...data.traffic.map((p) => p.p95Ms ?? 0));
  return (
    <div className="grid gap-3 @2xl/monitoring:grid-cols-2 @5xl/monitoring:grid-cols-3">
      <ChartCard title="Traffic" caption={`${countText(totals.requests)} requests, ${countText(totals.errors)} 5xx`}>
        <TimeChart
          label={`Requests and 5xx answers over ${words}: ${totals.requests} requests, ${totals.errors} 5xx`}
          times={c.serverTimes}
          series={c.traffic}
          format={axisCount}
        />
      </ChartCard>
      <ChartCard title="Latency" caption={`p95 at most ${latencyText(worstP95)}`}>
        <TimeChart
          label={`Latency over ${words}: p95 at most ${latencyText(worstP95)}`}
          times={c.serverTimes}
          series={c.latency}
          format={(v) => latencyText(v)}
        />
      </ChartCard>
      <ChartCard title="Browsers" caption={`${countText(totals.pageviews)} page views, ${countText(totals.browserErrors)} errors`}>
        <TimeChart
          label={`Page views, errors and failed requests in browsers over ${words}: ${totals.pageviews} page views, ${totals.browserErrors} errors`}
          times={c.browserTimes}
          series={c.browser}
          format={axisCount}
        />
      </ChartCard>
    </div>
  );
}

/** The overview's steps as the charts' series, each aligned with its times. */
function columns(d: Data) {
  const s = (label: string, color: string, values: (number | null)[]): ChartSeries => ({ label, color, values });
  const t = d.traffic;
  const b = d.browser;
  return {
    serverTimes: t.map((p) => p.t),
    traffic: [s("requests", "--primary", t.map((p) => p.requests)), s("5xx", "--destructive", t.map((p) => p.errors))],
    latency: [
      s("p50", "--primary", t.map((p) => p.p50Ms)),
      s("p95", "--warning", t.map((p) => p.p95Ms)),
      s("p99", "--destructive", t.map((p) => p.p99Ms)),
    ],
    browserTimes: b.map((p) => p.t),
    browser: [
      s("page views", "--primary", b.map((p) => p.pageviews)),
      s("errors", "--destructive", b.map((p) => p.errors)),
      s("failed requests", "--warning", b.map((p) => p.failedRequests)),
    ],
  };
}

const td = "px-2 py-1 tabular-nums";

function SlowestRoutes({ routes }: { routes: RouteStats[] }) {
  return (
    <TableSection
      title="Slowest routes"
      columns={["Route", "Requests", "5xx", "p50", "p95", "p99"]}
      empty={routes.length === 0 && "No requests reached the server in this range."}
    >
      {routes.map((r) => (
        <tr key={r.route} className="border-t border-border">
          <td className="max-w-72 truncate px-2 py-1 font-mono" title={r.route}>
            {r.route}
          </td>
          <td className={td}>{countText(r.requests)}</td>
          <td className={r.errors > 0 ? `${td} text-destructive-text` : td}>{shareText(r.errors, r.requests)}</td>
          <td className={td}>{latencyText(r.p50Ms)}</td>
          <td className={`${td} font-medium`}>{latencyText(r.p95Ms)}</td>
          <td className={td}>{latencyText(r.p99Ms)}</td>
        </tr>
      ))}
    </TableSection>
  );
}

function FailedRequests({ requests }: { requests: FailedRequest[] }) {
  return (
    <TableSection
      title="Failed requests from pages"
      columns={["Request", "Status", "Count"]}
      empty={requests.length === 0 && "No failed fetch or XHR calls were reported in this range."}
    >
      {requests.map((r) => (
        <tr key={`${r.method} ${r.target} ${r.status}`} className="border-t border-border">
          <td className="max-w-96 truncate px-2 py-1 font-mono" title={r.target}>
            {r.method} {r.target}
          </td>
          <td className={`${td} text-destructive-text`}>{r.status === 0 ? "network error" : r.status}</td>
          <td className={td}>{countText(r.count)}</td>
        </tr>
      ))}
    </TableSection>
  );
}

/** A headed table, or what its emptiness means. */
interface TableSectionProps {
  title: string;
  columns: string[];
  /** What an empty table means, or false when it has rows. */
  empty: string | false;
  children: ReactNode;
}

function TableSection({ title, columns, empty, children }: TableSectionProps) {
  return (
    <Section title={title}>
      {empty ? (
        <p className="text-muted-foreground">{empty}</p>
      ) : (
        <div className="overflow-x-auto rounded-md border border-border">
          <table className="w-full text-xs">
            <thead className="bg-muted text-muted-foreground">
              <tr>
                {columns.map((c) => (
                  <th key={c} className="px-2 py-1 text-left font-medium">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>{children}</tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
