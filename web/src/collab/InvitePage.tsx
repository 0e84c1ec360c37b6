import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link2Off, UserPlus } from "lucide-react";
import { Link, useNavigate, useParams } from "react-router";
import { toast } from "sonner";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { buttonVariants, Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading, Spinner } from "@/components/ui/spinner";
import { projectsQuery } from "@/dashboard/projects";
import { api, ApiError, errorMessage } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";

/** /invite/:token — what an invite link offers, and Accept. The route asks the person to log in first. */
export default function InvitePage() {
  const { token = "" } = useParams();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const invite = useQuery({ queryKey: ["invite", token], queryFn: () => api.invite(token), retry: false });
  const accept = useMutation({
    mutationFn: () => api.acceptInvite(token),
    onSuccess: (project) => {
      void qc.invalidateQueries({ queryKey: projectsQuery.queryKey });
      toast.success(`You joined ${project.name}`);
      void navigate(project.url, { replace: true });
    },
  });

  return (
    <AppShell>
      <title>Invitation · E-Code</title>
      <div className="mx-auto max-w-md">
        {invite.isPending && <Loading label="Opening the invitation" />}
        {invite.isError && <InviteProblem error={invite.error} onRetry={() => void invite.refetch()} />}
        {invite.data && (
          <div className="grid gap-4 rounded-lg border border-border bg-panel p-6">
            <div className="flex items-start gap-3">
              <div className="rounded-full border border-border bg-muted p-2.5">
                <UserPlus className="size-5 text-muted-foreground" aria-hidden />
              </div>
              <div className="grid gap-1">
                <h1 className="text-base font-semibold">
                  {invite.data.invitedBy} invites you to {invite.data.role === "viewer" ? "view" : "edit"}{" "}
                  <span className="font-mono">
                    {invite.data.project.owner}/{invite.data.project.slug}
                  </span>
                </h1>
                <p className="text-[13px] text-muted-foreground">
                  {invite.data.role === "viewer"
                    ? "As a viewer you see the files, edits and runs live, but can't change anything."
                    : "As an editor you can change files, run the project and open shells, live with the others."}
                </p>
                <p className="text-xs text-muted-foreground">
                  The link expires <time title={formatDate(invite.data.expiresAt)}>{timeAgo(invite.data.expiresAt)}</time>.
                </p>
              </div>
            </div>
            {accept.isError && (
              <p role="alert" className="text-[13px] text-destructive-text">
                {errorMessage(accept.error)}
              </p>
            )}
            <div className="flex justify-end gap-2">
              <Link to="/" className={buttonVariants({ variant: "ghost" })}>
                Not now
              </Link>
              <Button variant="primary" disabled={accept.isPending} onClick={() => accept.mutate()}>
                {accept.isPending && <Spinner className="text-current" />}
                Accept and open {invite.data.project.name}
              </Button>
            </div>
          </div>
        )}
      </div>
    </AppShell>
  );
}

function InviteProblem({ error, onRetry }: { error: unknown; onRetry: () => void }) {
  const code = error instanceof ApiError ? error.code : "";
  const gone = error instanceof ApiError && (error.status === 410 || error.status === 404);
  if (!gone) return <ErrorState title="Couldn't open this invitation" error={error} onRetry={onRetry} />;
  return (
    <EmptyState
      icon={Link2Off}
      title={code === "invite_expired" || (error instanceof ApiError && error.status === 410) ? "This invite link has expired" : "This invite link doesn't work"}
      action={
        <Link to="/" className={buttonVariants({ variant: "secondary" })}>
          Go to your projects
        </Link>
      }
    >
      Ask the person who shared it for a new link, or to add you by your username.
    </EmptyState>
  );
}
