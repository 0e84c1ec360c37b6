import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { UserPlus } from "lucide-react";
import { useNavigate, useParams } from "react-router";
import { toast } from "sonner";
import { projectsQuery } from "@/dashboard/projects";
import { api } from "@/lib/api";
import { InviteCard, InviteScreen } from "./InviteScreen";

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
    <InviteScreen
      title="Invitation · E-Code"
      invite={invite}
      advice={() => "Ask the person who shared it for a new link, or to add you by your username."}
    >
      {(info) => (
        <InviteCard
          icon={UserPlus}
          heading={
            <>
              {info.invitedBy} invites you to {info.role === "viewer" ? "view" : "edit"}{" "}
              <span className="font-mono">
                {info.project.owner}/{info.project.slug}
              </span>
            </>
          }
          expiresAt={info.expiresAt}
          error={accept.error}
          pending={accept.isPending}
          acceptLabel={`Accept and open ${info.project.name}`}
          onAccept={() => accept.mutate()}
        >
          <p className="text-[13px] text-muted-foreground">
            {info.role === "viewer"
              ? "As a viewer you see the files, edits and runs live, but can't change anything."
              : "As an editor you can change files, run the project and open shells, live with the others."}
          </p>
        </InviteCard>
      )}
    </InviteScreen>
  );
}
