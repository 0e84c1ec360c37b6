import { cn } from "@/lib/utils";
import type { Vital, VitalName } from "./api";
import { countText, latencyText } from "./format";
import { Section } from "./Section";

const titles: Record<VitalName, string> = {
  LCP: "Largest Contentful Paint",
  INP: "Interaction to Next Paint",
  CLS: "Cumulative Layout Shift",
  FCP: "First Contentful Paint",
  TTFB: "Time to First Byte",
};

type Rating = "good" | "needs-improvement" | "poor";

// Green means Run in this UI, so good is the accent; the rating is always written out too.
const ratings: Record<Rating, { words: string; text: string; bar: string }> = {
  good: { words: "Good", text: "text-primary", bar: "bg-primary" },
  "needs-improvement": { words: "Needs improvement", text: "text-warning", bar: "bg-warning" },
  poor: { words: "Poor", text: "text-destructive-text", bar: "bg-destructive" },
};

/** How web-vitals rates a value: good up to the first threshold, poor past the second. */
function rate(value: number, [good, poor]: [number, number]): Rating {
  if (value <= good) return "good";
  return value <= poor ? "needs-improvement" : "poor";
}

const vitalText = (v: Vital, value: number | null) =>
  value === null ? "–" : v.unit === "ms" ? latencyText(value) : String(Number(value.toPrecision(2)));

/** The Web Vitals as browsers measured them: p75 of each, rated, and how page views spread over the ratings. */
export function Vitals({ vitals }: { vitals: Vital[] }) {
  return (
    <Section
      title={
        <>
          Web Vitals <span className="font-normal text-muted-foreground">(75th percentile)</span>
        </>
      }
    >
      {!vitals.some((v) => v.good + v.needsImprovement + v.poor > 0) && (
        <p className="text-muted-foreground">Browsers measure these once the monitoring script is on the pages they open.</p>
      )}
      <ul className="grid grid-cols-[repeat(auto-fill,minmax(11rem,1fr))] gap-2">
        {vitals.map((v) => (
          <VitalCard key={v.name} vital={v} />
        ))}
      </ul>
    </Section>
  );
}

function VitalCard({ vital: v }: { vital: Vital }) {
  const rating = v.p75 === null ? null : ratings[rate(v.p75, v.thresholds)];
  const total = v.good + v.needsImprovement + v.poor;
  const parts = [
    { n: v.good, r: ratings.good },
    { n: v.needsImprovement, r: ratings["needs-improvement"] },
    { n: v.poor, r: ratings.poor },
  ];
  const spread = parts.map((p) => `${countText(p.n)} ${p.r.words.toLowerCase()}`).join(", ");
  return (
    <li className="grid gap-1.5 rounded-md border border-border p-2" data-testid={`vital-${v.name}`}>
      <div className="flex items-baseline justify-between gap-2">
        <abbr title={titles[v.name]} className="text-xs font-medium no-underline">
          {v.name}
        </abbr>
        <span className={cn("text-[11px]", rating?.text ?? "text-muted-foreground")}>{rating?.words ?? "No data"}</span>
      </div>
      <p className={cn("text-lg font-semibold tabular-nums", rating?.text)}>{vitalText(v, v.p75)}</p>
      <div role="img" aria-label={`${v.name} page views: ${spread}`} className="flex h-1.5 overflow-hidden rounded-full bg-muted">
        {total > 0 &&
          parts.map((p) => <div key={p.r.words} className={p.r.bar} style={{ width: `${(p.n / total) * 100}%` }} />)}
      </div>
      <p className="text-[11px] text-muted-foreground">
        {total > 0 ? spread : "Not measured yet"}
        <br />
        Good up to {vitalText(v, v.thresholds[0])}, poor past {vitalText(v, v.thresholds[1])}
      </p>
    </li>
  );
}
