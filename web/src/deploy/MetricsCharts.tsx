import { Activity } from "lucide-react";
import { lazy, Suspense, useMemo, useState, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage, type MetricPoint, type MetricsWindow } from "@/lib/api";
import { useMetrics } from "./appQueries";
import { Segmented } from "./Segmented";
import type { ChartSeries } from "./TimeChart";

// uPlot loads with the first chart, not with the workspace.
const TimeChart = lazy(() => import("./TimeChart"));

const windows: { value: MetricsWindow; label: string; words: string }[] = [
  { value: "15m", label: "15m", words: "the last 15 minutes" },
  { value: "1h", label: "1h", words: "the last hour" },
  { value: "6h", label: "6h", words: "the last 6 hours" },
  { value: "24h", label: "24h", words: "the last 24 hours" },
];

/** The deployment's traffic as the edge counted it, over a window the person picks. */
export function MetricsCharts({ projectId, shown }: { projectId: string; shown: boolean }) {
  const [span, setSpan] = useState<MetricsWindow>("1h");
  const state = useMetrics(projectId, span, shown);
  return (
    <section aria-labelledby="metrics-heading" className="grid gap-2" data-testid="metrics">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id="metrics-heading" className="text-sm font-semibold">
          Traffic
        </h2>
        <Segmented label="Time window" value={span} options={windows} onChange={setSpan} />
      </div>
      {state.isPending ? (
        <Spinner label="Loading traffic" />
      ) : state.isError ? (
        <div role="alert" className="flex flex-wrap items-center gap-2 text-destructive-text">
          Couldn't load the traffic: {errorMessage(state.error)}
          <Button size="sm" onClick={() => void state.refetch()}>
            Try again
          </Button>
        </div>
      ) : (
        <Charts
          points={state.data.points}
          stepMs={state.data.stepMs}
          words={windows.find((w) => w.value === span)?.words ?? span}
        />
      )}
    </section>
  );
}

function Charts({ points, stepMs, words }: { points: MetricPoint[]; stepMs: number; words: string }) {
  const c = useMemo(() => columns(points, stepMs), [points, stepMs]);
  if (!points.some((p) => p.requests > 0)) {
    return (
      <div className="flex items-start gap-2 rounded-md border border-dashed border-border p-3" data-testid="no-traffic">
        <Activity className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
        <p className="text-muted-foreground">
          <span className="font-medium text-foreground">No traffic yet</span> in {words}. Requests to the deployment's
          address show here as they come.
        </p>
      </div>
    );
  }
  const totals = c.status.map((s) => `${s.label} ${sum(s.values)}`).join(" · ");
  const peakRate = `${rate(max(c.rate))}/s`;
  const p95 = ms(max(c.latency[1]?.values ?? []));
  const peakInstances = max(c.instances[0]?.values ?? []);
  return (
    <div className="grid gap-3 @md/tools:grid-cols-2">
      <ChartCard title="Requests per second" caption={<span data-testid="requests-peak">peak {peakRate}</span>}>
        <TimeChart
          label={`Requests per second over ${words}: peak ${peakRate}`}
          times={c.times}
          series={c.rateSeries}
          format={rate}
        />
      </ChartCard>
      <ChartCard title="Responses by status" caption={totals}>
        <TimeChart
          label={`Responses by status over ${words}: ${totals}`}
          times={c.times}
          series={c.status}
          stacked
          format={count}
        />
      </ChartCard>
      <ChartCard title="Latency" caption={`p95 at most ${p95}`}>
        <TimeChart label={`Latency over ${words}: p95 at most ${p95}`} times={c.times} series={c.latency} format={ms} />
      </ChartCard>
      <ChartCard title="Instances" caption={`at most ${peakInstances}`}>
        <TimeChart
          label={`Instances running over ${words}: at most ${peakInstances}`}
          times={c.times}
          series={c.instances}
          stepped
          format={count}
        />
      </ChartCard>
    </div>
  );
}

/** A chart with its title and a one-line summary; holds its height while uPlot loads. */
export function ChartCard({ title, caption, children }: { title: string; caption: ReactNode; children: ReactNode }) {
  return (
    <figure className="grid min-w-0 gap-1 rounded-md border border-border p-2">
      <figcaption className="flex flex-wrap items-baseline justify-between gap-x-2 text-xs">
        <span className="font-medium">{title}</span>
        <span className="text-muted-foreground">{caption}</span>
      </figcaption>
      {/* The chart's height while uPlot loads, so nothing jumps. */}
      <Suspense fallback={<div className="h-36" />}>{children}</Suspense>
    </figure>
  );
}

/** The points as the charts' series: one array per figure, aligned with times. */
function columns(points: MetricPoint[], stepMs: number) {
  const perSecond = 1000 / stepMs;
  const rates = points.map((p) => p.requests * perSecond);
  const series = (label: string, color: string, values: (number | null)[]): ChartSeries => ({ label, color, values });
  return {
    times: points.map((p) => p.t),
    rate: rates,
    rateSeries: [series("requests/s", "--primary", rates)],
    status: [
      series("2xx", "--primary", points.map((p) => p.s2xx)),
      series("3xx", "--muted-foreground", points.map((p) => p.s3xx)),
      series("4xx", "--warning", points.map((p) => p.s4xx)),
      series("5xx", "--destructive", points.map((p) => p.s5xx)),
    ],
    latency: [series("p50", "--primary", points.map((p) => p.p50Ms)), series("p95", "--warning", points.map((p) => p.p95Ms))],
    instances: [series("instances", "--primary", points.map((p) => p.instances))],
  };
}

const sum = (values: (number | null)[]) => values.reduce<number>((a, v) => a + (v ?? 0), 0);
const max = (values: (number | null)[]) => values.reduce<number>((a, v) => Math.max(a, v ?? 0), 0);

/** 0.05, 1.2, 38: a rate with the digits that matter. */
function rate(v: number): string {
  if (v === 0) return "0";
  if (v < 10) return String(Number(v.toPrecision(2)));
  return String(Math.round(v));
}

/** Counts are whole, but an axis may split between them. */
const count = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

/** 0.4 ms, 35 ms, 1.2 s. */
function ms(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toPrecision(2))} s`;
  if (v > 0 && v < 10) return `${Number(v.toPrecision(2))} ms`;
  return `${Math.round(v)} ms`;
}
