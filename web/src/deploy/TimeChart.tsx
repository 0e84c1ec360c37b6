import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useTheme } from "@/lib/theme";

export interface ChartSeries {
  label: string;
  /** A colour token of index.css, such as --primary: the chart follows the theme. */
  color: string;
  /** One per time; null where there is nothing to show (a gap). */
  values: (number | null)[];
}

interface TimeChartProps {
  /** What the chart shows, for those who can't see it; the caption beside it says the figures. */
  label: string;
  /** Unix ms, oldest first. */
  times: number[];
  series: ChartSeries[];
  /** Each series drawn on top of the one before (status classes); the legend still says each one's own value. */
  stacked?: boolean;
  /** Instance counts change in steps, not slopes. */
  stepped?: boolean;
  /** A value as the axis and the legend write it. */
  format: (v: number) => string;
}

const height = 110;
const hoverTime = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/**
 * A small time-series chart (uPlot on a canvas), as wide as its box, in the theme's colours,
 * with a legend that reads the values under the pointer.
 */
export default function TimeChart({ label, times, series, stacked = false, stepped = false, format }: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = useTheme();
  const data = useMemo(() => aligned(times, series, stacked), [times, series, stacked]);
  // The point under the pointer, if any.
  const [hover, setHover] = useState<number | null>(null);
  // The newest of these, read by the chart when it is built and when it draws its axis.
  const latest = useRef({ data, series, format });
  useLayoutEffect(() => {
    latest.current = { data, series, format };
  });
  // The chart is built again only when what it draws changes shape (or the theme changes colours).
  const shape = series.map((s) => `${s.label}:${s.color}`).join("|");

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const root = getComputedStyle(document.documentElement);
    const muted = root.getPropertyValue("--muted-foreground").trim();
    const grid = { stroke: root.getPropertyValue("--border").trim(), width: 1 };
    const font = `11px ${getComputedStyle(el).fontFamily}`;
    const opts: uPlot.Options = {
      width: el.clientWidth,
      height,
      legend: { show: false },
      cursor: { drag: { x: false, y: false, setScale: false } },
      scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: muted, grid, ticks: grid, font, size: 28 },
        {
          stroke: muted,
          grid,
          ticks: grid,
          font,
          values: (_u, splits) => splits.map((v) => latest.current.format(v)),
          // Wide enough for the longest value (about 6.5 px a character at 11 px), its tick and the gap.
          size: (_u, values) => Math.ceil(Math.max(2, ...(values ?? []).map((v) => v.length)) * 6.5) + 22,
        },
      ],
      series: [
        {},
        ...latest.current.series.map((s): uPlot.Series => {
          const color = root.getPropertyValue(s.color).trim();
          return {
            stroke: color,
            // Stacked, the areas say it all: a line on top would wear the colour of whatever is stacked highest.
            width: stacked ? 0 : 1.5,
            fill: stacked ? translucent(color) : undefined,
            paths: stepped ? uPlot.paths.stepped?.({ align: 1 }) : undefined,
            // A lone value between gaps makes no line: it shows as a dot.
            points: { show: true, size: 5, fill: color, filter: (u, si) => lone(u.data[si]) },
          };
        }),
      ],
      // A stacked series fills down to the one under it.
      bands: stacked ? latest.current.series.slice(1).map((_, i): uPlot.Band => ({ series: [i + 2, i + 1] })) : undefined,
      hooks: { setCursor: [(u) => setHover(u.cursor.idx ?? null)] },
    };
    const u = new uPlot(opts, latest.current.data, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [theme, shape, stacked, stepped]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  const at = hover !== null && hover < times.length ? hover : null;
  return (
    <div className="grid min-w-0 gap-1">
      <div ref={box} role="img" aria-label={label} className="min-w-0" />
      <p className="flex min-h-4 flex-wrap items-center gap-x-3 text-[11px] text-muted-foreground" aria-hidden>
        {at !== null && <span className="text-foreground tabular-nums">{hoverTime.format(times[at])}</span>}
        {series.map((s) => {
          const v = at === null ? null : s.values[at];
          return (
            <span key={s.label} className="inline-flex items-center gap-1">
              <span className="size-2 rounded-sm" style={{ background: `var(${s.color})` }} />
              {s.label}
              {at !== null && (
                <span className="text-foreground tabular-nums">{v === null || v === undefined ? "–" : format(v)}</span>
              )}
            </span>
          );
        })}
      </p>
    </div>
  );
}

/** uPlot's columns: times in seconds, then each series (summed up, when stacked). */
function aligned(times: number[], series: ChartSeries[], stacked: boolean): uPlot.AlignedData {
  const xs = times.map((t) => t / 1000);
  if (!stacked) return [xs, ...series.map((s) => s.values)];
  const sums = times.map(() => 0);
  return [
    xs,
    ...series.map((s) =>
      s.values.map((v, i) => {
        sums[i] += v ?? 0;
        return sums[i];
      }),
    ),
  ];
}

/** The indices of values with a gap on both sides. */
function lone(values: uPlot.AlignedData[number]): number[] {
  const has = (i: number) => values[i] !== null && values[i] !== undefined;
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (has(i) && !has(i - 1) && !has(i + 1)) out.push(i);
  }
  return out;
}

/** The theme's colour, a little see-through, for an area (the tokens are #rrggbb). */
function translucent(color: string): string {
  return /^#[0-9a-f]{6}$/i.test(color) ? `${color}b3` : color;
}
