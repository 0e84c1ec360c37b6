import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Users } from "lucide-react";
import { useNavigate, useParams } from "react-router";
import { toast } from "sonner";
import { InviteCard, InviteScreen } from "@/collab/InviteScreen";
import { api } from "@/lib/api";
import { IpNotAllowedPage, isIpNotAllowed } from "./IpNotAllowedPage";
import { teamRoleHints, teamRoleLabels, teamsQuery } from "./teams";

/** /team-invite/:token — which team a link lets the person into, with which role, and Join. The route asks them to log in first. */
export default function TeamInvitePage() {
  const { token = "" } = useParams();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const invite = useQuery({ queryKey: ["team-invite", token], queryFn: () => api.teamInvite(token) });
  const join = useMutation({
    mutationFn: () => api.acceptTeamInvite(token),
    onSuccess: (team) => {
      void qc.invalidateQueries({ queryKey: teamsQuery.queryKey });
      void qc.invalidateQueries({ queryKey: ["projects"] });
      toast.success(`You joined ${team.displayName || team.name}`);
      void navigate(team.url, { replace: true });
    },
  });

  const blocked = [invite.error, join.error].find(isIpNotAllowed);
  if (blocked) return <IpNotAllowedPage error={blocked} />;
  return (
    <InviteScreen
      title="Team invitation · E-Code"
      invite={invite}
      advice={(expired) =>
        expired
          ? "Invite links only last a while. Ask the team admin who shared it for a new one."
          : "It may have been revoked, or mistyped. Ask a team admin for a new link, or to add you by your username."
      }
    >
      {(info) => (
        <InviteCard
          icon={Users}
          heading={`${info.invitedBy} invites you to join ${info.team.displayName || info.team.name}`}
          expiresAt={info.expiresAt}
          error={join.error}
          pending={join.isPending}
          acceptLabel="Join team"
          onAccept={() => join.mutate()}
        >
          <p className="font-mono text-xs text-muted-foreground">@{info.team.name}</p>
          <p className="text-[13px] text-muted-foreground">
            You'd join as <strong className="font-medium text-foreground">{teamRoleLabels[info.role].toLowerCase()}</strong>:{" "}
            {teamRoleHints[info.role]}.
          </p>
        </InviteCard>
      )}
    </InviteScreen>
  );
}
