import { Coins } from "lucide-react";
import { Link } from "react-router";
import { buttonVariants } from "@/components/ui/button";
import type { Project } from "@/lib/api";
import { usagePath } from "./api";

interface OutOfCreditsProps {
  /** Whose credits pay: the project's owner, a person or a team. */
  project: Pick<Project, "owner" | "ownerKind" | "role">;
  /** What waits: a run or an agent run. */
  what: "run" | "agent";
  className?: string;
}

/**
 * What a person sees where a run or an agent run starts while the project's payer has no
 * credits: what happened, that nothing is lost, and where to top up (or who can).
 */
export function OutOfCredits({ project, what, className }: OutOfCreditsProps) {
  const team = project.ownerKind === "team";
  // The owner tops up a person's project; a team's owners and admins top up its projects.
  const canTopUp = team ? project.role === "owner" || project.role === "admin" : project.role === "owner";
  const payer = team ? `the team @${project.owner}` : project.role === "owner" ? "your account" : `@${project.owner}`;
  const waits = what === "run" ? "New runs wait" : "The agent waits";
  return (
    <div role="alert" data-testid="out-of-credits" className={className}>
      <p className="flex items-center gap-1.5 font-semibold text-destructive-text">
        <Coins className="size-4 shrink-0" aria-hidden /> Out of credits
      </p>
      <p className="mt-1 text-foreground">
        {payer.charAt(0).toUpperCase() + payer.slice(1)} has no credits left. {waits} until credits are added; nothing
        was deleted.
        {!canTopUp && (team ? ` Ask an admin of @${project.owner} to top up.` : ` Ask @${project.owner} to top up.`)}
      </p>
      {canTopUp && (
        <Link to={usagePath(team ? project.owner : undefined)} className={`${buttonVariants({ variant: "primary", size: "sm" })} mt-2`}>
          <Coins /> Top up
        </Link>
      )}
    </div>
  );
}
