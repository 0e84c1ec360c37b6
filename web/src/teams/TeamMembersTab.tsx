import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { toast } from "sonner";
import { useMe } from "@/auth/session";
import { InviteLinks } from "@/collab/InviteLinks";
import { AddByUsername, MemberRow, PeopleList, PeopleSection, RemoveMemberDialog, RoleSelect, type RoleOption } from "@/collab/people";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Loading } from "@/components/ui/spinner";
import { api, errorMessage, type Team, type TeamInvite, type TeamMember, type TeamRole } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { atLeast, grantableRoles, teamMembersQuery, teamRoleHints, teamRoleLabels, teamsQuery } from "./teams";

/** Who is in the team; its admins add people by username or link, change roles and remove them. */
export function TeamMembersTab({ team }: { team: Team }) {
  const members = useQuery(teamMembersQuery(team.name));
  const admin = atLeast(team.role, "admin");
  return (
    <div className="grid gap-6">
      {admin && <AddMember team={team} />}
      {members.isPending && <Loading label="Loading members" />}
      {members.isError && <ErrorState error={members.error} onRetry={() => void members.refetch()} />}
      {members.data && <MemberList team={team} members={members.data.members} />}
      {admin && members.data && <TeamInviteLinks team={team} invites={members.data.invites} />}
    </div>
  );
}

/** The roles as pickers offer them, each with what it may do on hover. */
const roleOptions = (roles: TeamRole[]): RoleOption<TeamRole>[] =>
  roles.map((r) => ({ value: r, label: teamRoleLabels[r], title: teamRoleHints[r] }));

function AddMember({ team }: { team: Team }) {
  const qc = useQueryClient();
  return (
    <AddByUsername
      surface="page"
      id="team-add-username"
      roles={roleOptions(grantableRoles(team.role))}
      initialRole="member"
      submitLabel="Add"
      add={(username, role) => api.addTeamMember(team.name, username, role)}
      onAdded={(member) => {
        void qc.invalidateQueries({ queryKey: teamMembersQuery(team.name).queryKey });
        toast.success(`${member.username} joined ${team.name} as ${teamRoleLabels[member.role].toLowerCase()}`);
      }}
      hint={(role) => `${teamRoleLabels[role]}: ${teamRoleHints[role]}.`}
    />
  );
}

function MemberList({ team, members }: { team: Team; members: TeamMember[] }) {
  const me = useMe().data;
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [removing, setRemoving] = useState<TeamMember | null>(null);
  const [leaving, setLeaving] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: teamMembersQuery(team.name).queryKey });
  const roles = grantableRoles(team.role);
  const options = roleOptions(roles);
  // Admins manage everyone but owners; owners manage everyone.
  const manages = (m: TeamMember) => m.userId !== me?.id && roles.includes(m.role);
  // A team keeps at least one owner, so its only owner cannot leave (the server refuses it too).
  const onlyOwner = (m: TeamMember) => m.role === "owner" && members.filter((o) => o.role === "owner").length === 1;
  const setRole = useMutation({
    mutationFn: ({ member, role }: { member: TeamMember; role: TeamRole }) => api.setTeamMemberRole(team.name, member.userId, role),
    onSuccess: (member) => {
      void refresh();
      toast.success(`${member.username} is now ${member.role === "admin" || member.role === "owner" ? "an" : "a"} ${member.role}`);
    },
    onError: (err) => toast.error("Couldn't change the role", { description: errorMessage(err) }),
  });

  return (
    <PeopleSection surface="page" title="Members">
      <PeopleList surface="page" label="Members">
        {members.map((member) => (
          <MemberRow
            key={member.userId}
            surface="page"
            testId="team-member-row"
            username={member.username}
            self={member.userId === me?.id}
            detail={
              <span className="ml-2 text-xs text-muted-foreground">
                joined <time title={formatDate(member.addedAt)}>{timeAgo(member.addedAt)}</time>
                {member.userId === me?.id && onlyOwner(member) && " · the only owner: make someone else an owner to leave"}
              </span>
            }
            role={
              manages(member) ? (
                <RoleSelect
                  label={`Role for ${member.username}`}
                  value={member.role}
                  options={options}
                  disabled={setRole.isPending}
                  onChange={(role) => role !== member.role && setRole.mutate({ member, role })}
                />
              ) : (
                <Badge>{teamRoleLabels[member.role]}</Badge>
              )
            }
            onRemove={manages(member) ? () => setRemoving(member) : undefined}
            onLeave={member.userId === me?.id && !onlyOwner(member) ? () => setLeaving(true) : undefined}
          />
        ))}
      </PeopleList>
      <RemoveMemberDialog
        member={removing}
        onClose={() => setRemoving(null)}
        title={(name) => `Remove ${name} from ${team.name}?`}
        description="They lose access to the team and its projects at once."
        remove={(member) => api.removeTeamMember(team.name, member.userId)}
        onRemoved={() => void refresh()}
      />
      <ConfirmDialog
        open={leaving}
        onOpenChange={setLeaving}
        title={`Leave ${team.name}?`}
        description="You lose access to the team and its projects at once. An admin can add you again."
        confirmLabel="Leave team"
        destructive
        onConfirm={async () => {
          if (!me) return;
          await api.removeTeamMember(team.name, me.id);
          void navigate("/");
          qc.removeQueries({ queryKey: ["teams", team.name] });
          void qc.invalidateQueries({ queryKey: teamsQuery.queryKey });
          void qc.invalidateQueries({ queryKey: ["projects"] });
          toast.success(`You left ${team.name}`);
        }}
      />
    </PeopleSection>
  );
}

const linkRoles: RoleOption<TeamInvite["role"]>[] = (["member", "viewer", "admin"] as const).map((r) => ({
  value: r,
  label: `Joins as ${teamRoleLabels[r].toLowerCase()}`,
}));

function TeamInviteLinks({ team, invites }: { team: Team; invites: TeamInvite[] }) {
  const qc = useQueryClient();
  return (
    <InviteLinks
      surface="page"
      title="Invite links"
      description="Anyone with a link joins the team with its role after logging in, until it expires or you revoke it."
      roles={linkRoles}
      initialRole="member"
      roleLabels={teamRoleLabels}
      invites={invites}
      create={(role, hours) => api.createTeamInvite(team.name, role, hours)}
      revoke={(invite) => api.revokeTeamInvite(team.name, invite.id)}
      onChange={() => void qc.invalidateQueries({ queryKey: teamMembersQuery(team.name).queryKey })}
      urlTestId="team-invite-url"
      listLabel="Open invite links"
      revokeLabel={(invite) => `Revoke ${teamRoleLabels[invite.role].toLowerCase()} link made ${timeAgo(invite.createdAt)}`}
    />
  );
}
