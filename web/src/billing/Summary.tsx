import { Bell, OctagonAlert } from "lucide-react";
import type { ReactNode } from "react";
import { Badge } from "@/components/ui/badge";
import { Meter } from "@/components/ui/meter";
import { formatDate } from "@/lib/format";
import { cn } from "@/lib/utils";
import { MICRO, type Billing } from "./api";
import { creditsText, dayText, lastDay, wholeCreditsText } from "./format";
import { Skeleton } from "./Skeleton";

/** The allowance the period's usage and alerts are measured against. */
export const allowanceOf = (b: Billing) => (b.granted > 0 ? b.granted : b.plan.monthlyCredits * MICRO);

/** The account at a glance: plan, balance, the period's usage against its allowance, forecast, alerts. */
export function Summary({ billing: b }: { billing: Billing }) {
  const allowance = allowanceOf(b);
  const end = lastDay(b.period.end);
  const usedText = `${creditsText(b.used)} of ${creditsText(allowance)} credits used`;
  return (
    <div className="grid gap-4" data-testid="billing-summary">
      {b.outOfCredits && <OutOfCreditsBanner enforced={b.enforced} suspendAt={b.suspendAt ?? null} />}
      <dl className="grid grid-cols-[repeat(auto-fill,minmax(10rem,1fr))] gap-2">
        <Figure label="Plan" testId="billing-plan">
          {b.plan.name}
          <span className="ml-1.5 text-xs font-normal text-muted-foreground">
            {wholeCreditsText(b.plan.monthlyCredits)} credits a month
          </span>
        </Figure>
        <Figure label="Balance" testId="billing-balance">
          <span className={cn(b.balance < 0 && "text-destructive-text")}>{creditsText(b.balance)}</span>
          <span className="ml-1.5 text-xs font-normal text-muted-foreground">credits</span>
        </Figure>
        <Figure label="Available" testId="billing-available">
          <span className={cn(b.available <= 0 && "text-destructive-text")}>{creditsText(b.available)}</span>
          {b.held > 0 && (
            <span className="ml-1.5 text-xs font-normal text-muted-foreground">{creditsText(b.held)} held</span>
          )}
        </Figure>
      </dl>
      <div className="grid gap-1.5 rounded-md border border-border p-3">
        <div className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1 text-[13px]">
          <span className="font-medium">
            This period: {dayText(b.period.start)} – {dayText(end)}
          </span>
          <span className="tabular-nums text-muted-foreground" data-testid="billing-used">
            {usedText}
          </span>
        </div>
        <Meter label="Credits used this period" value={b.used} max={allowance} text={usedText} />
        <div className="flex flex-wrap items-center justify-between gap-2 text-xs text-muted-foreground">
          <span data-testid="billing-forecast">
            {b.forecast > 0 ? (
              <>
                At this pace: <span className="font-medium text-foreground tabular-nums">{creditsText(b.forecast)}</span>{" "}
                credits by {dayText(end)}
                {b.forecast > allowance && allowance > 0 && <span className="text-warning"> (more than the allowance)</span>}
              </>
            ) : b.used > 0 ? (
              "A forecast for the period shows after its first hour."
            ) : (
              "Nothing used yet this period."
            )}
          </span>
          {b.alerts.length > 0 && (
            <span className="flex flex-wrap items-center gap-1" aria-label="Budget alerts reached this period">
              {[...b.alerts]
                .sort((x, y) => x - y)
                .map((a) => (
                  <Badge
                    key={a}
                    className={cn(
                      a >= 100 ? "border-destructive/40 text-destructive-text" : "border-warning/40 text-warning",
                    )}
                  >
                    <Bell aria-hidden /> {a} % reached
                  </Badge>
                ))}
            </span>
          )}
        </div>
      </div>
    </div>
  );
}

function OutOfCreditsBanner({ enforced, suspendAt }: { enforced: boolean; suspendAt: number | null }) {
  const deployments = suspendAt ? `deployments stop on ${formatDate(suspendAt)}` : "deployments stop after a grace period";
  return (
    <div
      role="alert"
      data-testid="out-of-credits-banner"
      className="flex items-start gap-2 rounded-md border border-destructive/50 bg-destructive/10 p-3 text-[13px]"
    >
      <OctagonAlert className="mt-0.5 size-4 shrink-0 text-destructive-text" aria-hidden />
      <div>
        <p className="font-semibold text-destructive-text">Out of credits</p>
        <p className="text-foreground">
          {enforced
            ? `New runs and agent runs wait until you top up; ${deployments}. Nothing is deleted, and everything resumes once credits are added.`
            : "This server doesn't stop work at zero, but usage keeps being charged: top up to bring the balance back."}
        </p>
      </div>
    </div>
  );
}

function Figure({ label, testId, children }: { label: string; testId: string; children: ReactNode }) {
  return (
    <div className="grid gap-0.5 rounded-md border border-border p-2">
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className="text-lg font-semibold tabular-nums" data-testid={testId}>
        {children}
      </dd>
    </div>
  );
}

export function SummarySkeleton() {
  return (
    <div className="grid gap-4" aria-hidden>
      <div className="grid grid-cols-[repeat(auto-fill,minmax(10rem,1fr))] gap-2">
        <Skeleton className="h-16" />
        <Skeleton className="h-16" />
        <Skeleton className="h-16" />
      </div>
      <Skeleton className="h-20" />
    </div>
  );
}
