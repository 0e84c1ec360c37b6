import { formatDate, timeAgo } from "@/lib/format";
import type { Range } from "./api";

export const ranges: { value: Range; label: string; words: string }[] = [
  { value: "1h", label: "1h", words: "the last hour" },
  { value: "24h", label: "24h", words: "the last 24 hours" },
  { value: "7d", label: "7d", words: "the last 7 days" },
  { value: "30d", label: "30d", words: "the last 30 days" },
];

export const rangeWords = (range: Range) => ranges.find((r) => r.value === range)?.words ?? range;

const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

/** 12, 1,234, 56K: a count, short once it is large. */
export const countText = (n: number) => (n < 10_000 ? whole.format(n) : compact.format(n));

/** An axis may split between whole counts. */
export const axisCount = (v: number) => (Number.isInteger(v) ? countText(v) : v.toFixed(1));

/** 0.4 ms, 35 ms, 1.2 s; a dash where there was nothing to measure. */
export function latencyText(v: number | null): string {
  if (v === null) return "–";
  if (v >= 1000) return `${Number((v / 1000).toPrecision(2))} s`;
  if (v > 0 && v < 10) return `${Number(v.toPrecision(2))} ms`;
  return `${Math.round(v)} ms`;
}

/** part of all as a percentage: 0 %, 0.25 %, 12 %. */
export function shareText(part: number, all: number): string {
  if (all === 0 || part === 0) return "0 %";
  const p = (part / all) * 100;
  return `${p < 1 ? Number(p.toPrecision(2)) : Math.round(p)} %`;
}

/** "3 May 2026, 14:02 (2 hours ago)". */
export const seenText = (ms: number) => `${formatDate(ms)} (${timeAgo(ms)})`;
