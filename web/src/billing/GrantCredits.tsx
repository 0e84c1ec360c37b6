import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Gift, Scale } from "lucide-react";
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { billingApi, billingKeys, type GrantInput } from "./api";
import { creditsText } from "./format";

/** Up to six decimals: a credit is a million micro-credits. */
const CREDITS = /^\d+(\.\d{1,6})?$/;

/** For platform administrators (in Settings): credits granted by hand, and the ledger's own check. */
export function GrantCredits() {
  const qc = useQueryClient();
  const [to, setTo] = useState<"user" | "team">("user");
  const [name, setName] = useState("");
  const [credits, setCredits] = useState("");
  const [reason, setReason] = useState("");
  // The check reads the whole ledger: run when asked (and after a grant), not on every visit.
  const reconcile = useQuery({ queryKey: billingKeys.reconcile, queryFn: billingApi.reconcile, enabled: false });
  const grant = useMutation({
    mutationFn: (input: GrantInput) => billingApi.grant(input),
    onSuccess: () => {
      setCredits("");
      setReason("");
      void qc.invalidateQueries({ queryKey: billingKeys.all });
      if (reconcile.data) void reconcile.refetch();
    },
  });

  const who = name.trim().replace(/^@/, "");
  const creditsProblem = credits.trim() === "" ? null : !CREDITS.test(credits.trim()) || Number(credits) <= 0 ? "A positive number, at most 6 decimals." : null;
  const ready = who !== "" && credits.trim() !== "" && !creditsProblem && reason.trim() !== "";

  return (
    <section aria-labelledby="grant-credits-heading" className="rounded-lg border border-border bg-panel p-5" data-testid="grant-credits">
      <h2 id="grant-credits-heading" className="text-base font-semibold">
        Grant credits
      </h2>
      <p className="mb-4 text-[13px] text-muted-foreground">
        You administer this server: add credits to a person's or a team's account. The grant and its reason are in their
        transactions.
      </p>
      <form
        className="grid gap-3 sm:grid-cols-[8rem_1fr_10rem]"
        onSubmit={(e) => {
          e.preventDefault();
          if (!ready) return;
          grant.mutate({ [to]: who, credits: Number(credits.trim()), reason: reason.trim() });
        }}
      >
        <div className="grid content-start gap-1.5">
          <Label htmlFor="grant-to">To</Label>
          <Select id="grant-to" value={to} onChange={(e) => setTo(e.target.value === "team" ? "team" : "user")}>
            <option value="user">Person</option>
            <option value="team">Team</option>
          </Select>
        </div>
        <Field
          label={to === "team" ? "Team name" : "Username"}
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoComplete="off"
          spellCheck={false}
        />
        <Field
          label="Credits"
          inputMode="decimal"
          value={credits}
          onChange={(e) => setCredits(e.target.value)}
          error={creditsProblem}
          placeholder="500"
        />
        <div className="sm:col-span-3">
          <Field label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="Pilot programme, refund…" maxLength={500} />
        </div>
        <div className="flex flex-wrap items-center gap-3 sm:col-span-3">
          <Button type="submit" variant="primary" disabled={!ready || grant.isPending}>
            {grant.isPending ? <Spinner className="text-current" /> : <Gift />} Grant credits
          </Button>
          {grant.isSuccess && (
            <p role="status" className="text-[13px]">
              Granted {creditsText(grant.data.amount)} credits to {grant.variables.team ? "team " : ""}@
              {grant.variables.team ?? grant.variables.user}.
            </p>
          )}
          {grant.isError && (
            <p role="alert" className="text-[13px] text-destructive-text">
              {errorMessage(grant.error)}
            </p>
          )}
        </div>
      </form>
      <div className="mt-5 flex flex-wrap items-center gap-3 border-t border-border pt-4 text-[13px]" data-testid="reconcile">
        <Button variant="secondary" size="sm" onClick={() => void reconcile.refetch()} disabled={reconcile.isFetching}>
          {reconcile.isFetching ? <Spinner className="text-current" /> : <Scale />} Check the ledger
        </Button>
        {reconcile.isError ? (
          <p role="alert" className="text-destructive-text">
            {errorMessage(reconcile.error)}
          </p>
        ) : reconcile.data?.ok ? (
          <p role="status">
            Ledger balanced: {reconcile.data.accounts} accounts, {reconcile.data.transfers} transfers.
          </p>
        ) : !reconcile.data ? (
          <p className="text-muted-foreground">Checks that every balance is the sum of its transfers and that all of them sum to zero.</p>
        ) : (
          <div role="alert" className="text-destructive-text">
            <p className="font-medium">The ledger doesn't balance:</p>
            <ul className="list-disc pl-5">
              {(reconcile.data.problems ?? []).map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        )}
      </div>
    </section>
  );
}
