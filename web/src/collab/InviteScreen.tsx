// The page an invite link opens, shared by project and team invitations:
// what the link offers, Accept or Not now, and why a dead link doesn't work.
import type { UseQueryResult } from "@tanstack/react-query";
import { Link2Off, type LucideIcon } from "lucide-react";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { Button, buttonVariants } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading, Spinner } from "@/components/ui/spinner";
import { ApiError, errorMessage } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";

interface InviteScreenProps<T> {
  /** The document's title. */
  title: string;
  invite: UseQueryResult<T>;
  /** What to do about a link that is gone, given whether it expired (else it was revoked or is wrong). */
  advice: (expired: boolean) => ReactNode;
  /** The invitation itself, once loaded. */
  children: (invite: T) => ReactNode;
}

export function InviteScreen<T>({ title, invite, advice, children }: InviteScreenProps<T>) {
  return (
    <AppShell>
      <title>{title}</title>
      <div className="mx-auto max-w-md">
        {invite.isPending && <Loading label="Opening the invitation" />}
        {invite.isError && <InviteProblem error={invite.error} onRetry={() => void invite.refetch()} advice={advice} />}
        {invite.data !== undefined && children(invite.data)}
      </div>
    </AppShell>
  );
}

function InviteProblem({ error, onRetry, advice }: { error: unknown; onRetry: () => void; advice: (expired: boolean) => ReactNode }) {
  // A revoked, unknown or expired link answers 404 or 410; anything else may pass if tried again.
  if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 410)) {
    return <ErrorState title="Couldn't open this invitation" error={error} onRetry={onRetry} />;
  }
  const expired = error.code === "invite_expired" || error.status === 410;
  return (
    <EmptyState
      icon={Link2Off}
      title={expired ? "This invite link has expired" : "This invite link doesn't work"}
      action={
        <Link to="/" className={buttonVariants({ variant: "secondary" })}>
          Go to your projects
        </Link>
      }
    >
      {advice(expired)}
    </EmptyState>
  );
}

interface InviteCardProps {
  icon: LucideIcon;
  heading: ReactNode;
  /** What joining means, between the heading and the expiry. */
  children: ReactNode;
  expiresAt: number;
  /** Why accepting failed, if it did. */
  error: Error | null;
  pending: boolean;
  acceptLabel: ReactNode;
  onAccept: () => void;
}

export function InviteCard({ icon: Icon, heading, children, expiresAt, error, pending, acceptLabel, onAccept }: InviteCardProps) {
  return (
    <div className="grid gap-4 rounded-lg border border-border bg-panel p-6">
      <div className="flex items-start gap-3">
        <div className="rounded-full border border-border bg-muted p-2.5">
          <Icon className="size-5 text-muted-foreground" aria-hidden />
        </div>
        <div className="grid gap-1">
          <h1 className="text-base font-semibold">{heading}</h1>
          {children}
          <p className="text-xs text-muted-foreground">
            The link expires <time title={formatDate(expiresAt)}>{timeAgo(expiresAt)}</time>.
          </p>
        </div>
      </div>
      {error && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {errorMessage(error)}
        </p>
      )}
      <div className="flex justify-end gap-2">
        <Link to="/" className={buttonVariants({ variant: "ghost" })}>
          Not now
        </Link>
        <Button variant="primary" disabled={pending} onClick={onAccept}>
          {pending && <Spinner className="text-current" />}
          {acceptLabel}
        </Button>
      </div>
    </div>
  );
}
