import { useMemo, useState, type KeyboardEvent, type MouseEvent } from "react";
import { cn } from "@/lib/utils";
import { MICRO, type Category, type UsageRow } from "./api";
import { categories, categoryColors, categoryLabels, chargeText, creditsText, longDayText, shortDayText } from "./format";

const HEIGHT = 100;
const COLUMN = 10;
const BAR = 7;

interface Day {
  day: string;
  total: number;
  by: Record<Category, number>;
}

const none = (): Record<Category, number> => ({ compute: 0, ai: 0, storage: 0, deployments: 0, egress: 0 });

/** The rows summed per day and category, for every day of the period (empty days too). */
function perDay(rows: UsageRow[], days: string[]): Day[] {
  const index = new Map(days.map((d, i) => [d, i]));
  const out: Day[] = days.map((day) => ({ day, total: 0, by: none() }));
  for (const r of rows) {
    const i = index.get(r.day);
    const d = i === undefined ? undefined : out[i];
    if (!d || !(r.category in d.by)) continue;
    d.by[r.category] += r.amount;
    d.total += r.amount;
  }
  return out;
}

/** A scale line's value: two decimals, or two significant digits below a hundredth. */
const axisText = (micro: number) => (micro < MICRO / 100 ? String(Number((micro / MICRO).toPrecision(2))) : creditsText(micro));

/** What the chart shows, in words: for screen readers, and the same figures as its legend. */
function summary(data: Day[], totals: Record<Category, number>): string {
  const all = data.reduce((s, d) => s + d.total, 0);
  const first = data[0];
  const last = data[data.length - 1];
  if (!first || !last) return "Credits per day: no days in this period.";
  const range = `${longDayText(first.day)} to ${longDayText(last.day)}`;
  if (all === 0) return `Credits per day, ${range}: nothing charged yet.`;
  const parts = categories.filter((c) => totals[c] > 0).map((c) => `${categoryLabels[c]} ${chargeText(totals[c])}`);
  const peak = data.reduce((a, b) => (b.total > a.total ? b : a));
  return `Credits per day by category, ${range}: ${chargeText(all)} credits in all (${parts.join(", ")}). The most on ${longDayText(peak.day)}: ${chargeText(peak.total)} credits.`;
}

/**
 * Credits charged per day, stacked by category, over the period's days. Hover or focus the
 * chart and move with the arrow keys to read a day's figures.
 */
export function UsageChart({ rows, days }: { rows: UsageRow[]; days: string[] }) {
  const data = useMemo(() => perDay(rows, days), [rows, days]);
  const totals = useMemo(() => {
    const t = none();
    for (const d of data) for (const c of categories) t[c] += d.by[c];
    return t;
  }, [data]);
  const top = Math.max(1, ...data.map((d) => d.total));
  const [active, setActive] = useState<number | null>(null);
  const n = data.length;
  const shown = active === null ? undefined : data[active];
  const peak = data.reduce<Day | undefined>((a, b) => (!a || b.total > a.total ? b : a), undefined);

  const pick = (e: MouseEvent<HTMLDivElement>) => {
    const box = e.currentTarget.getBoundingClientRect();
    if (box.width === 0 || n === 0) return;
    setActive(Math.min(n - 1, Math.max(0, Math.floor(((e.clientX - box.left) / box.width) * n))));
  };
  const move = (e: KeyboardEvent<SVGSVGElement>) => {
    const at = active ?? n - 1;
    const next =
      e.key === "ArrowLeft" ? at - 1 : e.key === "ArrowRight" ? at + 1 : e.key === "Home" ? 0 : e.key === "End" ? n - 1 : null;
    if (next === null) return;
    e.preventDefault();
    setActive(Math.min(n - 1, Math.max(0, next)));
  };
  // Keyboard focus starts on the latest day with usage, where a person most likely looks.
  const start = () => {
    if (active !== null) return;
    let last = n - 1;
    for (let i = n - 1; i >= 0; i--) {
      if ((data[i]?.total ?? 0) > 0) {
        last = i;
        break;
      }
    }
    setActive(last);
  };

  return (
    <figure className="grid min-w-0 gap-2 rounded-md border border-border p-2" data-testid="usage-chart">
      <figcaption className="flex flex-wrap items-baseline justify-between gap-x-2 text-xs">
        <span className="font-medium">Credits per day</span>
        {peak && peak.total > 0 && (
          <span className="text-muted-foreground">
            peak {chargeText(peak.total)} on {shortDayText(peak.day)}
          </span>
        )}
      </figcaption>
      <div className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-1.5">
        {/* The scale: the top line and the half line. */}
        <div aria-hidden className="relative h-40 text-right text-[10px] text-muted-foreground tabular-nums">
          <span className="block leading-none">{axisText(top)}</span>
          <span className="absolute right-0 top-1/2 -translate-y-1/2 leading-none">{axisText(top / 2)}</span>
        </div>
        <div className="relative" onMouseMove={pick} onMouseLeave={() => setActive(null)}>
          <svg
            role="img"
            aria-label={summary(data, totals)}
            aria-describedby={shown ? "usage-chart-day" : undefined}
            tabIndex={0}
            onKeyDown={move}
            onFocus={start}
            onBlur={() => setActive(null)}
            viewBox={`0 0 ${n * COLUMN} ${HEIGHT}`}
            preserveAspectRatio="none"
            className="block h-40 w-full rounded focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-ring"
          >
            {[0.5, 1].map((f) => (
              <line
                key={f}
                x1={0}
                x2={n * COLUMN}
                y1={HEIGHT - f * HEIGHT + 0.5}
                y2={HEIGHT - f * HEIGHT + 0.5}
                stroke="var(--border)"
                strokeWidth={0.5}
                vectorEffect="non-scaling-stroke"
              />
            ))}
            {data.map((d, i) => {
              let y = HEIGHT;
              return (
                <g key={d.day}>
                  {active === i && <rect x={i * COLUMN} y={0} width={COLUMN} height={HEIGHT} fill="var(--muted)" />}
                  {categories.map((c) => {
                    const v = d.by[c];
                    if (v <= 0) return null;
                    // A small charge beside a large one still shows.
                    const h = Math.max(0.8, (v / top) * HEIGHT);
                    y -= h;
                    return <rect key={c} x={i * COLUMN + (COLUMN - BAR) / 2} y={y} width={BAR} height={h} fill={categoryColors[c]} />;
                  })}
                </g>
              );
            })}
          </svg>
          {shown && active !== null && (
            <div
              id="usage-chart-day"
              role="status"
              className={cn(
                "pointer-events-none absolute top-2 z-10 min-w-40 rounded-md border border-border bg-popover px-2 py-1.5 text-xs text-popover-foreground shadow-md",
                active < n / 2 ? "" : "-translate-x-full",
              )}
              style={{ left: `${((active + (active < n / 2 ? 1 : 0)) / n) * 100}%` }}
            >
              <p className="mb-1 font-medium">{longDayText(shown.day)}</p>
              <dl className="grid grid-cols-[auto_auto] gap-x-3 gap-y-0.5 tabular-nums">
                {categories.map((c) => (
                  <div key={c} className="contents">
                    <dt className="flex items-center gap-1.5">
                      <Swatch category={c} /> {categoryLabels[c]}
                    </dt>
                    <dd className="text-right">{chargeText(shown.by[c])}</dd>
                  </div>
                ))}
                <dt className="font-medium">Total</dt>
                <dd className="text-right font-medium">{chargeText(shown.total)}</dd>
              </dl>
            </div>
          )}
        </div>
        <span />
        <div aria-hidden className="mt-1 grid text-[10px] text-muted-foreground" style={{ gridTemplateColumns: `repeat(${n}, minmax(0, 1fr))` }}>
          {data.map((d, i) => (
            <span key={d.day} className="overflow-visible text-center whitespace-nowrap">
              {i % 7 === 0 ? shortDayText(d.day) : ""}
            </span>
          ))}
        </div>
      </div>
      <ul aria-label="Categories" className="flex flex-wrap gap-x-4 gap-y-1 text-xs">
        {categories.map((c) => (
          <li key={c} className="flex items-center gap-1.5">
            <Swatch category={c} />
            {categoryLabels[c]}
            <span className="text-muted-foreground tabular-nums">{chargeText(totals[c])}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

function Swatch({ category }: { category: Category }) {
  return <span aria-hidden className="inline-block size-2.5 shrink-0 rounded-sm" style={{ background: categoryColors[category] }} />;
}
