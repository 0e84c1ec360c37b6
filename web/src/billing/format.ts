import { MICRO, type Category } from "./api";

const two = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const some = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** µcr as credits with two decimals: 1,234.50. */
export const creditsText = (micro: number) => two.format(micro / MICRO);

/** A charge: like creditsText, but a charge too small for two decimals reads "<0.01", not "0.00". */
export const chargeText = (micro: number) => (micro > 0 && micro < MICRO / 100 ? "<0.01" : creditsText(micro));

/** µcr as a signed change: +500.00, −12.34, −<0.01. */
export function signedCreditsText(micro: number): string {
  if (micro > 0) return `+${chargeText(micro)}`;
  if (micro < 0) return `−${chargeText(-micro)}`;
  return creditsText(0);
}

/** Whole credits of a plan or a minimum: 2,500. */
export const wholeCreditsText = (credits: number) => whole.format(credits);

/** Cents as money: $25 a month, $0.01. */
export function centsText(cents: number): string {
  return new Intl.NumberFormat(undefined, {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: cents % 100 === 0 ? 0 : 2,
  }).format(cents / 100);
}

// Periods and usage days are UTC calendar days: say them as such, wherever the browser is.
const dayFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
const shortDayFmt = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

export const dayText = (ms: number) => dayFmt.format(new Date(ms));
/** "4 Dec" for "2026-12-04". */
export const shortDayText = (day: string) => shortDayFmt.format(new Date(`${day}T00:00:00Z`));
/** "Dec 4, 2026" for "2026-12-04". */
export const longDayText = (day: string) => dayFmt.format(new Date(`${day}T00:00:00Z`));

/** The last day of a period whose end is exclusive. */
export const lastDay = (endMs: number) => endMs - 1;

/** The YYYY-MM of a period, as the statement asks for it. */
export const periodMonth = (startMs: number) => new Date(startMs).toISOString().slice(0, 7);

/** Every UTC day from start up to (not including) end, as "YYYY-MM-DD". */
export function daysOf(startMs: number, endMs: number): string[] {
  const days: string[] = [];
  const day = 86_400_000;
  const first = Math.floor(startMs / day) * day;
  // A month has at most 31 days; the bound keeps a bad answer from drawing thousands of bars.
  for (let t = first; t < endMs && days.length < 62; t += day) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

export const categories: readonly Category[] = ["compute", "ai", "storage", "deployments", "egress"];

export const categoryLabels: Record<Category, string> = {
  compute: "Compute",
  ai: "AI",
  storage: "Storage",
  deployments: "Deployments",
  egress: "Egress",
};

/** One hue per category, none of them the red of failures or the green of Run. */
export const categoryColors: Record<Category, string> = {
  compute: "var(--primary)",
  ai: "#8b5cf6",
  storage: "#0891b2",
  deployments: "#c026d3",
  egress: "#64748b",
};

interface MeterInfo {
  label: string;
  /** The unit a person reads. */
  unit: string;
  /** Base units (as metered) per display unit. */
  per: number;
}

const GiB = 1024 ** 3;
const GB = 1e9;
/** A billing month of storage: 30 days. */
const MONTH_SECONDS = 30 * 86_400;

const meters: Record<string, MeterInfo> = {
  "sandbox.cpu": { label: "Sandbox CPU", unit: "CPU-seconds", per: 1e6 },
  "sandbox.memory": { label: "Sandbox memory", unit: "GiB-seconds", per: GiB },
  "sandbox.gpu": { label: "GPU", unit: "GPU-seconds", per: 1000 },
  "ai.input": { label: "AI input", unit: "tokens", per: 1 },
  "ai.output": { label: "AI output", unit: "tokens", per: 1 },
  "storage.files": { label: "Project files", unit: "GB-months", per: GB * MONTH_SECONDS },
  "storage.database": { label: "Databases", unit: "GB-months", per: GB * MONTH_SECONDS },
  "storage.objects": { label: "Object storage", unit: "GB-months", per: GB * MONTH_SECONDS },
  "storage.backups": { label: "Database backups", unit: "GB-months", per: GB * MONTH_SECONDS },
  "deploy.instance": { label: "Deployment instances", unit: "instance-hours", per: 3_600_000 },
  egress: { label: "Egress", unit: "GB", per: GB },
};

export const meterLabel = (meter: string) => meters[meter]?.label ?? meter;

/** A metered quantity in the unit a person reads: "12.5 CPU-seconds", "3,400 tokens". */
export function quantityText(meter: string, quantity: number): string {
  const m = meters[meter];
  if (!m) return whole.format(quantity);
  const v = quantity / m.per;
  // Small amounts keep two significant digits; below 0.0001 (a small file for an hour, in
  // GB-months) they would only read as an exponent.
  const tiny = v !== 0 && Math.abs(v) < 0.0001;
  const n = tiny ? "<0.0001" : v !== 0 && Math.abs(v) < 0.01 ? Number(v.toPrecision(2)).toString() : some.format(v);
  return `${n} ${m.unit}`;
}

const kinds: Record<string, string> = {
  grant: "Grant",
  topup: "Top-up",
  usage: "Usage",
  agent: "Agent run",
  hold: "Hold",
  expiry: "Expired credits",
  adjustment: "Adjustment",
  plan: "Plan credits",
};

export const kindLabel = (kind: string) => kinds[kind] ?? kind.charAt(0).toUpperCase() + kind.slice(1);
