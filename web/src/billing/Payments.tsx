import { useMutation, useQuery } from "@tanstack/react-query";
import { Check, Coins, CreditCard, ExternalLink, Info } from "lucide-react";
import { useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { cn } from "@/lib/utils";
import { billingApi, billingKeys, isStripeNotConfigured, type Billing, type Plan, type PlansInfo } from "./api";
import { centsText, wholeCreditsText } from "./format";
import { Skeleton } from "./Skeleton";

/** Leaving for Stripe: the page is gone once the browser follows the link. */
const go = (url: string) => window.location.assign(url);

/**
 * Top up, change plan, manage billing: each goes to Stripe. Where this server takes no
 * payments (no Stripe keys, or checkout answers stripe_not_configured), says so instead.
 */
export function Payments({ billing, team }: { billing: Billing; team?: string }) {
  const plans = useQuery({ queryKey: billingKeys.plans, queryFn: billingApi.plans, staleTime: 5 * 60_000 });
  const [refused, setRefused] = useState(false);
  const checkout = useMutation({
    mutationFn: (input: { credits?: number; plan?: string }) => billingApi.checkout({ ...input, ...(team && { team }) }),
    onSuccess: go,
    onError: (err) => {
      if (isStripeNotConfigured(err)) setRefused(true);
    },
  });
  const portal = useMutation({
    mutationFn: () => billingApi.portal(team),
    onSuccess: go,
    onError: (err) => {
      if (isStripeNotConfigured(err)) setRefused(true);
    },
  });

  if (!billing.stripe || refused) return <NoPayments />;
  const failure = [checkout, portal].find((m) => m.isError && !isStripeNotConfigured(m.error));
  const busy = checkout.isPending || portal.isPending || checkout.isSuccess || portal.isSuccess;

  return (
    <div className="grid gap-4">
      {failure && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {errorMessage(failure.error)}
        </p>
      )}
      {plans.isPending ? (
        <Skeleton className="h-28" />
      ) : plans.isError ? (
        <div role="alert" className="flex flex-wrap items-center gap-2 text-[13px] text-destructive-text">
          Couldn't load the plans: {errorMessage(plans.error)}
          <Button size="sm" onClick={() => void plans.refetch()}>
            Try again
          </Button>
        </div>
      ) : (
        <>
          <TopUp
            info={plans.data}
            busy={busy}
            sending={checkout.isPending && checkout.variables?.credits !== undefined}
            onTopUp={(credits) => checkout.mutate({ credits })}
          />
          <PlanCards
            plans={plans.data.plans.filter((p) => !!p.teams === !!team)}
            current={billing.plan.id}
            busy={busy}
            sending={checkout.isPending ? checkout.variables?.plan : undefined}
            onChoose={(plan) => checkout.mutate({ plan })}
          />
        </>
      )}
      <div className="flex flex-wrap items-center gap-2">
        <Button variant="outline" size="sm" onClick={() => portal.mutate()} disabled={busy}>
          {portal.isPending ? <Spinner className="text-current" /> : <ExternalLink />} Manage billing
        </Button>
        <span className="text-xs text-muted-foreground">Invoices, payment methods and cancelling, at Stripe.</span>
      </div>
    </div>
  );
}

function NoPayments() {
  return (
    <div role="status" data-testid="payments-off" className="flex items-start gap-2 rounded-md border border-border bg-muted/50 p-3 text-[13px]">
      <Info className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
      <p>
        <span className="font-medium">Payments aren't set up on this server.</span> An administrator grants credits: ask
        yours to add some to this account.
      </p>
    </div>
  );
}

interface TopUpProps {
  info: PlansInfo;
  busy: boolean;
  sending: boolean;
  onTopUp: (credits: number) => void;
}

function TopUp({ info, busy, sending, onTopUp }: TopUpProps) {
  const { minCredits, centsPerCredit } = info.topUps;
  const [amount, setAmount] = useState(String(minCredits));
  const credits = Number(amount);
  const problem =
    amount.trim() === "" || !Number.isInteger(credits)
      ? "A whole number of credits."
      : credits < minCredits
        ? `At least ${wholeCreditsText(minCredits)} credits.`
        : null;
  return (
    <form
      className="flex flex-wrap items-start gap-3"
      aria-label="Top up"
      onSubmit={(e) => {
        e.preventDefault();
        if (!problem) onTopUp(credits);
      }}
    >
      <div className="w-44">
        <Field
          label="Credits to add"
          type="number"
          inputMode="numeric"
          min={minCredits}
          step={1}
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          error={amount.trim() !== "" ? problem : null}
          hint={problem ? `At least ${wholeCreditsText(minCredits)}` : `${centsText(credits * centsPerCredit)} at checkout`}
        />
      </div>
      {/* Level with the input, under the field's label. */}
      <Button type="submit" variant="primary" className="mt-[25px] h-9" disabled={busy || !!problem}>
        {sending ? <Spinner className="text-current" /> : <Coins />} Top up
      </Button>
    </form>
  );
}

interface PlanCardsProps {
  plans: Plan[];
  current: string;
  busy: boolean;
  /** The plan whose checkout is on its way. */
  sending?: string;
  onChoose: (plan: string) => void;
}

function PlanCards({ plans, current, busy, sending, onChoose }: PlanCardsProps) {
  if (plans.length === 0) return null;
  return (
    <ul aria-label="Plans" className="grid grid-cols-[repeat(auto-fill,minmax(12rem,1fr))] gap-2">
      {plans.map((p) => {
        const isCurrent = p.id === current;
        return (
          <li
            key={p.id}
            aria-current={isCurrent || undefined}
            className={cn("grid gap-2 rounded-md border p-3", isCurrent ? "border-primary" : "border-border")}
          >
            <div className="flex items-center justify-between gap-2">
              <span className="font-semibold">{p.name}</span>
              {isCurrent && (
                <Badge>
                  <Check aria-hidden /> Current plan
                </Badge>
              )}
            </div>
            <p className="text-[13px] text-muted-foreground">
              {wholeCreditsText(p.monthlyCredits)} credits a month ·{" "}
              {p.priceCents === 0 ? "free" : `${centsText(p.priceCents)} a month`}
            </p>
            {!isCurrent &&
              (p.priceCents === 0 ? (
                <p className="text-xs text-muted-foreground">Cancel the subscription in Manage billing to return to it.</p>
              ) : p.subscribable === false ? (
                <p className="text-xs text-muted-foreground">Not on sale here yet: ask an administrator.</p>
              ) : (
                <Button size="sm" onClick={() => onChoose(p.id)} disabled={busy}>
                  {sending === p.id ? <Spinner className="text-current" /> : <CreditCard />} Switch to {p.name}
                </Button>
              ))}
          </li>
        );
      })}
    </ul>
  );
}
