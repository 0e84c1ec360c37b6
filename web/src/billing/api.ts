// Credits and billing: the payer's balance and plan, usage, statements, transactions,
// Stripe checkout and portal, and the administrators' grants. Amounts are integer
// micro-credits (µcr) as the server sends them; see format.ts for how they read.

import { ApiError, request } from "@/lib/api";
import type { components } from "@/lib/schema.gen";

/** 1 credit = 1,000,000 µcr. */
export const MICRO = 1_000_000;

type Schemas = components["schemas"];

/** A plan: its monthly grant of credits and its price (stripePrice: Stripe sells it). */
export type Plan = Schemas["Plan"];
export type PlanSummary = Plan;

/** The payer's account as GET /api/billing answers it; amounts in µcr, times in unix ms. */
export type Billing = Schemas["BillingAccount"];

export type Category = Schemas["UsageRow"]["category"];

export interface Price {
  meter: string;
  category: Category;
  unit: string;
  /** µcr per unit. */
  micro: number;
}

export interface PlansInfo {
  plans: Plan[];
  topUps: { minCredits: number; centsPerCredit: number };
  prices: Price[];
}

/** Usage of one meter, on one day, for one project and person; quantity in the meter's base unit. */
export type UsageRow = Schemas["UsageRow"];

export interface Usage {
  from: number;
  to: number;
  rows: UsageRow[];
}

/** A ledger transfer as the payer sees it: amount signed, + in, − out. */
export type Transaction = Schemas["BillingTransaction"];

export interface ReconcileReport {
  accounts: number;
  transfers: number;
  total: number;
  problems: string[] | null;
  ok: boolean;
}

export interface GrantInput {
  user?: string;
  team?: string;
  /** Credits, up to 6 decimals. */
  credits: number;
  reason: string;
}

/** ?team=<name> selects a team's account; without it, the caller's own. */
function withTeam(path: string, team: string | undefined, params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params);
  if (team) q.set("team", team);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export const billingApi = {
  billing: (team?: string) => request<{ billing: Billing }>("GET", withTeam("/api/billing", team)).then((r) => r.billing),
  plans: () => request<PlansInfo>("GET", "/api/billing/plans"),
  /** The usage of [from, to) in unix ms; the current period without them. */
  usage: (team?: string, range?: { from: number; to: number }) =>
    request<{ usage: Usage }>(
      "GET",
      withTeam("/api/billing/usage", team, range ? { from: String(range.from), to: String(range.to) } : {}),
    ).then((r) => r.usage),
  /** Newest first; before is the id of the last one already shown. */
  /** usage: list every usage charge too (a running sandbox is charged every rating pass). */
  transactions: (team: string | undefined, before: string | undefined, limit: number, usage: boolean) =>
    request<{ transactions: Transaction[] }>(
      "GET",
      withTeam("/api/billing/transactions", team, { ...(before && { before }), limit: String(limit), usage: String(usage) }),
    ).then((r) => r.transactions),
  /** A download: date,category,meter,detail,project,person,quantity,unit,credits. period is YYYY-MM. */
  statementUrl: (team: string | undefined, period: string) => withTeam("/api/billing/statement.csv", team, { period }),
  /** Where to send the browser to pay; 503 stripe_not_configured when payments aren't set up. */
  checkout: (input: { team?: string; credits?: number; plan?: string }) =>
    request<{ url: string }>("POST", "/api/billing/checkout", { json: input }).then((r) => r.url),
  portal: (team?: string) =>
    request<{ url: string }>("POST", "/api/billing/portal", { json: team ? { team } : {} }).then((r) => r.url),

  // Platform administrators
  grant: (input: GrantInput) =>
    request<{ transfer: Transaction }>("POST", "/api/admin/billing/grants", { json: input }).then((r) => r.transfer),
  reconcile: () => request<{ report: ReconcileReport }>("GET", "/api/admin/billing/reconcile").then((r) => r.report),
};

/** Query keys, all under ["billing"]. */
export const billingKeys = {
  all: ["billing"] as const,
  account: (team?: string) => ["billing", team ?? "", "account"] as const,
  usage: (team?: string) => ["billing", team ?? "", "usage"] as const,
  transactions: (team?: string, usage = false) => ["billing", team ?? "", "transactions", usage] as const,
  plans: ["billing", "plans"] as const,
  reconcile: ["billing", "admin", "reconcile"] as const,
};

/** The answer every new run or agent run gets while its payer's balance is spent. */
export const isOutOfCredits = (err: unknown): boolean => err instanceof ApiError && err.code === "out_of_credits";

/** The answer to checkout and the portal while this server takes no payments. */
export const isStripeNotConfigured = (err: unknown): boolean =>
  err instanceof ApiError && err.code === "stripe_not_configured";

/** The usage page of the person's own account, or of a team's. */
export const usagePath = (team?: string) => (team ? `/usage?team=${encodeURIComponent(team)}` : "/usage");
