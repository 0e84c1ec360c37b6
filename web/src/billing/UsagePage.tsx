import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { BarChart3, Download } from "lucide-react";
import { useMemo, type ReactNode } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { useMe } from "@/auth/session";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { buttonVariants } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { ApiError } from "@/lib/api";
import { atLeast, teamsQuery } from "@/teams/teams";
import { billingApi, billingKeys, usagePath, type Billing } from "./api";
import { daysOf, periodMonth } from "./format";
import { Payments } from "./Payments";
import { Skeleton } from "./Skeleton";
import { Summary, SummarySkeleton } from "./Summary";
import { Transactions } from "./Transactions";
import { UsageChart } from "./UsageChart";
import { UsageTables } from "./UsageTables";

/** /usage (?team=<name>): the account's credits, plan, usage this period, statements and transactions. */
export default function UsagePage() {
  const [params] = useSearchParams();
  const team = params.get("team") || undefined;
  return (
    <AppShell>
      <title>{`Usage & billing${team ? ` · @${team}` : ""} · E-Code`}</title>
      <div className="mb-6 flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-xl font-semibold">Usage &amp; billing</h1>
          <p className="text-[13px] text-muted-foreground">
            {team ? `The team @${team} pays for its projects.` : "Your own account: it pays for the projects you own."}
          </p>
        </div>
        <AccountPicker team={team} />
      </div>
      <Account key={team ?? ""} team={team} />
    </AppShell>
  );
}

/** Switches between the person's own account and the teams they administer. */
function AccountPicker({ team }: { team?: string }) {
  const me = useMe();
  const teams = useQuery({ ...teamsQuery, enabled: !!me.data });
  const navigate = useNavigate();
  const admin = (teams.data ?? []).filter((t) => atLeast(t.role, "admin"));
  // Keep a team asked for by URL in the list even when the list doesn't show it (yet).
  const names = admin.map((t) => t.name);
  if (team && !names.includes(team)) names.push(team);
  if (names.length === 0) return null;
  return (
    <div className="grid gap-1.5">
      <Label htmlFor="billing-account">Account</Label>
      <Select id="billing-account" className="h-8 w-56" value={team ?? ""} onChange={(e) => navigate(usagePath(e.target.value || undefined))}>
        <option value="">{me.data ? `@${me.data.username} (you)` : "Your account"}</option>
        {names.map((n) => (
          <option key={n} value={n}>
            @{n}
          </option>
        ))}
      </Select>
    </div>
  );
}

function Account({ team }: { team?: string }) {
  const account = useQuery({
    queryKey: billingKeys.account(team),
    queryFn: () => billingApi.billing(team),
    // Rating runs on an interval: a page left open catches up each minute.
    refetchInterval: 60_000,
  });
  if (account.isPending) {
    return (
      <div className="grid gap-8" role="status" aria-label="Loading the account">
        <SummarySkeleton />
        <Skeleton className="h-48" />
      </div>
    );
  }
  if (account.isError) {
    const forbidden = account.error instanceof ApiError && account.error.status === 403;
    return (
      <ErrorState
        title={forbidden ? "Can't show this account" : "Couldn't load the account"}
        error={account.error}
        onRetry={forbidden ? undefined : () => void account.refetch()}
      />
    );
  }
  const b = account.data;
  return (
    <div className="grid gap-8">
      <Summary billing={b} />
      <Part id="billing-payments" title="Credits and plan">
        <Payments billing={b} team={team} />
      </Part>
      <Part
        id="billing-usage"
        title="Usage this period"
        action={
          <a
            className={buttonVariants({ variant: "outline", size: "sm" })}
            href={billingApi.statementUrl(team, periodMonth(b.period.start))}
            download
          >
            <Download /> Download CSV
          </a>
        }
      >
        <Usage billing={b} team={team} />
      </Part>
      <Part id="billing-transactions" title="Transactions">
        <Transactions team={team} />
      </Part>
    </div>
  );
}

function Usage({ billing, team }: { billing: Billing; team?: string }) {
  const usage = useQuery({
    queryKey: billingKeys.usage(team),
    queryFn: () => billingApi.usage(team),
    refetchInterval: 60_000,
    placeholderData: keepPreviousData,
  });
  const days = useMemo(() => daysOf(billing.period.start, billing.period.end), [billing.period.start, billing.period.end]);
  if (usage.isPending) {
    return (
      <div className="grid gap-4" role="status" aria-label="Loading the usage">
        <Skeleton className="h-56" />
        <Skeleton className="h-24" />
      </div>
    );
  }
  if (usage.isError) return <ErrorState title="Couldn't load the usage" error={usage.error} onRetry={() => void usage.refetch()} />;
  const rows = usage.data.rows;
  if (rows.length === 0) {
    return (
      <EmptyState icon={BarChart3} title="No usage yet this period" className="h-auto rounded-md border border-dashed border-border">
        Runs, the agent, deployments and storage show here as they use credits.
      </EmptyState>
    );
  }
  return (
    <div className="grid gap-4">
      <UsageChart rows={rows} days={days} />
      <UsageTables rows={rows} team={!!team} />
    </div>
  );
}

/** A headed part of the page, named by its heading. */
function Part({ id, title, action, children }: { id: string; title: string; action?: ReactNode; children: ReactNode }) {
  return (
    <section aria-labelledby={id} className="grid gap-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h2 id={id} className="text-base font-semibold">
          {title}
        </h2>
        {action}
      </div>
      {children}
    </section>
  );
}
