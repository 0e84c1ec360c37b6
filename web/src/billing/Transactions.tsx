import { useState } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { ReceiptText } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { EmptyState } from "@/components/ui/empty-state";
import { LoadMore } from "@/components/ui/load-more";
import { Button } from "@/components/ui/button";
import { errorMessage } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { cn } from "@/lib/utils";
import { billingApi, billingKeys, type Transaction } from "./api";
import { kindLabel, signedCreditsText } from "./format";
import { Skeleton } from "./Skeleton";

const PAGE = 25;

/**
 * The movements of the account's credits, newest first: top-ups, grants, holds, expiry, and the
 * usage charges when asked for (the charts above already show usage, charged every rating pass).
 */
export function Transactions({ team }: { team?: string }) {
  const [usage, setUsage] = useState(false);
  return (
    <div className="grid gap-2">
      <label className="flex w-fit items-center gap-2 text-[13px] text-muted-foreground">
        <input type="checkbox" checked={usage} onChange={(e) => setUsage(e.target.checked)} />
        Include usage charges
      </label>
      <List team={team} usage={usage} />
    </div>
  );
}

function List({ team, usage }: { team?: string; usage: boolean }) {
  const list = useInfiniteQuery({
    queryKey: billingKeys.transactions(team, usage),
    queryFn: ({ pageParam }) => billingApi.transactions(team, pageParam, PAGE, usage),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => (last.length < PAGE ? undefined : last[last.length - 1]?.id),
  });
  if (list.isPending) {
    return (
      <div className="grid gap-1" aria-hidden>
        <Skeleton className="h-8" />
        <Skeleton className="h-8" />
        <Skeleton className="h-8" />
      </div>
    );
  }
  if (list.isError) {
    return (
      <div role="alert" className="flex flex-wrap items-center gap-2 text-[13px] text-destructive-text">
        Couldn't load the transactions: {errorMessage(list.error)}
        <Button size="sm" onClick={() => void list.refetch()}>
          Try again
        </Button>
      </div>
    );
  }
  const items = list.data.pages.flat();
  if (items.length === 0) {
    return (
      <EmptyState icon={ReceiptText} title="No transactions yet" className="h-auto rounded-md border border-dashed border-border">
        Credits granted, bought and used show here.
      </EmptyState>
    );
  }
  return (
    <div className="rounded-md border border-border">
      <ol aria-label="Transactions" className="divide-y divide-border text-[13px]" data-testid="transactions">
        {items.map((t) => (
          <Row key={t.id} t={t} />
        ))}
      </ol>
      <LoadMore pages={list} />
    </div>
  );
}

function Row({ t }: { t: Transaction }) {
  const voided = t.status === "voided";
  return (
    <li className="flex flex-wrap items-center gap-x-3 gap-y-0.5 px-3 py-1.5">
      <span className="w-28 shrink-0 font-medium">{kindLabel(t.kind)}</span>
      <span className="min-w-0 flex-1 truncate text-muted-foreground" title={t.memo}>
        {t.memo}
      </span>
      {t.status === "pending" && <Badge>held</Badge>}
      {voided && <Badge>released</Badge>}
      <span className={cn("w-24 text-right tabular-nums", t.amount > 0 && "font-medium", voided && "text-muted-foreground line-through")}>
        {t.amount === 0 ? <span className="text-muted-foreground">not charged</span> : signedCreditsText(t.amount)}
      </span>
      <time className="w-40 text-right text-xs text-muted-foreground" dateTime={new Date(t.createdAt).toISOString()}>
        {formatDate(t.createdAt)}
      </time>
    </li>
  );
}
