import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import { toast } from "sonner";
import { useMe } from "@/auth/session";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { Loading } from "@/components/ui/spinner";
import { api, errorMessage, type Invite, type Member, type Project } from "@/lib/api";
import { InviteLinks } from "./InviteLinks";
import { LeaveProjectDialog } from "./LeaveProjectDialog";
import { managesProject, membersQuery, roleIn, roleLabels } from "./members";
import { AddByUsername, MemberRow, PeopleList, PeopleSection, RemoveMemberDialog, RoleSelect, type RoleOption } from "./people";

type GrantedRole = "editor" | "viewer";

interface MembersDialogProps {
  project: Project;
  open: boolean;
  onOpenChange: (open: boolean) => void;
}

/**
 * Who has access to a project. The owner adds people by username or with an
 * invite link, changes their roles and removes them; everyone else sees the
 * list and may leave.
 */
export function MembersDialog({ project, open, onOpenChange }: MembersDialogProps) {
  const me = useMe().data;
  const isOwner = managesProject(roleIn(project, me));
  const members = useQuery({ ...membersQuery(project.id), enabled: open });

  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent
        title={isOwner ? `Share ${project.name}` : `People in ${project.name}`}
        description={
          isOwner
            ? "Editors change files, run the project and open shells; viewers watch everything live and change nothing."
            : undefined
        }
        className="max-h-[calc(100vh-4rem)] max-w-lg overflow-y-auto"
      >
        {isOwner && <AddMember project={project} />}
        {members.isPending && <Loading label="Loading members" />}
        {members.isError && <ErrorState error={members.error} onRetry={() => void members.refetch()} />}
        {members.data && <MemberList project={project} members={members.data.members} isOwner={isOwner} />}
        {isOwner && members.data && <ProjectInviteLinks project={project} invites={members.data.invites ?? []} />}
      </DialogContent>
    </Dialog>
  );
}

// What the project's managers hand out, as the pickers word it.
const grantedRoles: readonly RoleOption<GrantedRole>[] = [
  { value: "editor", label: "Can edit" },
  { value: "viewer", label: "Can view" },
];

function AddMember({ project }: { project: Project }) {
  const qc = useQueryClient();
  return (
    <AddByUsername
      surface="dialog"
      id="invite-username"
      roles={grantedRoles}
      initialRole="editor"
      submitLabel="Invite"
      add={(username, role) => api.addMember(project.id, username, role)}
      onAdded={(member) => {
        void qc.invalidateQueries({ queryKey: membersQuery(project.id).queryKey });
        toast.success(`${member.username} can now ${member.role === "viewer" ? "view" : "edit"} ${project.name}`);
      }}
    />
  );
}

function MemberList({ project, members, isOwner }: { project: Project; members: Member[]; isOwner: boolean }) {
  const me = useMe().data;
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [removing, setRemoving] = useState<Member | null>(null);
  const [leaving, setLeaving] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: membersQuery(project.id).queryKey });
  const setRole = useMutation({
    mutationFn: ({ member, role }: { member: Member; role: GrantedRole }) => api.setMemberRole(project.id, member.userId, role),
    onSuccess: (member) => {
      void refresh();
      toast.success(`${member.username} is now ${member.role === "viewer" ? "a viewer" : "an editor"}`);
    },
    onError: (err) => toast.error("Couldn't change the role", { description: errorMessage(err) }),
  });

  return (
    <PeopleSection surface="dialog" title="People with access">
      <PeopleList surface="dialog" label="Members">
        {members.map((member) => {
          const self = member.userId === me?.id;
          // Owners and a team's admins keep their role; the project's managers change the others'.
          const granted = isOwner && (member.role === "editor" || member.role === "viewer") ? member.role : null;
          return (
            <MemberRow
              key={member.userId}
              surface="dialog"
              testId="member-row"
              username={member.username}
              self={self}
              role={
                granted ? (
                  <RoleSelect
                    label={`Role for ${member.username}`}
                    value={granted}
                    options={grantedRoles}
                    disabled={setRole.isPending}
                    onChange={(role) => role !== granted && setRole.mutate({ member, role })}
                  />
                ) : (
                  <Badge>{roleLabels[member.role]}</Badge>
                )
              }
              onRemove={granted ? () => setRemoving(member) : undefined}
              onLeave={!isOwner && self ? () => setLeaving(true) : undefined}
            />
          );
        })}
      </PeopleList>
      <RemoveMemberDialog
        member={removing}
        onClose={() => setRemoving(null)}
        title={(name) => `Remove ${name}?`}
        description="They lose access at once, and are disconnected if they have it open."
        remove={(member) => api.removeMember(project.id, member.userId)}
        onRemoved={() => void refresh()}
      />
      <LeaveProjectDialog project={leaving ? project : null} onOpenChange={setLeaving} onLeft={() => void navigate("/")} />
    </PeopleSection>
  );
}

function ProjectInviteLinks({ project, invites }: { project: Project; invites: Invite[] }) {
  const qc = useQueryClient();
  return (
    <InviteLinks
      surface="dialog"
      title="Invite link"
      description="Anyone with the link can join after logging in, until it expires or you revoke it."
      roles={grantedRoles}
      initialRole="editor"
      roleLabels={roleLabels}
      invites={invites}
      create={(role, hours) => api.createInvite(project.id, role, hours)}
      revoke={(invite) => api.revokeInvite(project.id, invite.id)}
      onChange={() => void qc.invalidateQueries({ queryKey: membersQuery(project.id).queryKey })}
      urlTestId="invite-url"
      listLabel="Active invite links"
      revokeLabel={() => "Revoke link"}
    />
  );
}
