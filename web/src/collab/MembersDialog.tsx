import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link2, LogOut, Trash2, UserPlus } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { toast } from "sonner";
import { useMe } from "@/auth/session";
import { Avatar } from "@/components/UserMenu";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { Input, Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Loading, Spinner } from "@/components/ui/spinner";
import { api, errorMessage, type Invite, type Member, type Project } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { LeaveProjectDialog } from "./LeaveProjectDialog";
import { absoluteUrl, inviteExpiries, membersQuery, roleIn, roleLabels } from "./members";

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
  const isOwner = roleIn(project, me) === "owner";
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
        {isOwner && members.data && <InviteLinks project={project} invites={members.data.invites ?? []} />}
      </DialogContent>
    </Dialog>
  );
}

function RoleSelect({ value, onChange, label, disabled }: { value: GrantedRole; onChange: (r: GrantedRole) => void; label: string; disabled?: boolean }) {
  return (
    <Select
      aria-label={label}
      value={value}
      disabled={disabled}
      onChange={(e) => onChange(e.target.value === "viewer" ? "viewer" : "editor")}
      className="h-8 w-auto text-[13px]"
    >
      <option value="editor">Can edit</option>
      <option value="viewer">Can view</option>
    </Select>
  );
}

function AddMember({ project }: { project: Project }) {
  const qc = useQueryClient();
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<GrantedRole>("editor");
  const add = useMutation({
    mutationFn: () => api.addMember(project.id, username.trim().replace(/^@/, ""), role),
    onSuccess: (member) => {
      setUsername("");
      void qc.invalidateQueries({ queryKey: membersQuery(project.id).queryKey });
      toast.success(`${member.username} can now ${member.role === "viewer" ? "view" : "edit"} ${project.name}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (username.trim()) add.mutate();
  };

  return (
    <form onSubmit={submit} className="grid gap-1.5">
      <Label htmlFor="invite-username">Add people by username</Label>
      <div className="flex gap-2">
        <Input
          id="invite-username"
          value={username}
          onChange={(e) => {
            setUsername(e.target.value);
            if (add.isError) add.reset();
          }}
          placeholder="username"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={add.isError || undefined}
          aria-describedby={add.isError ? "invite-username-error" : undefined}
          className="h-8 text-[13px]"
        />
        <RoleSelect value={role} onChange={setRole} label="Role for the new member" />
        <Button type="submit" variant="primary" disabled={add.isPending || !username.trim()}>
          {add.isPending ? <Spinner className="text-current" /> : <UserPlus />}
          Invite
        </Button>
      </div>
      {add.isError && (
        <p id="invite-username-error" role="alert" className="text-xs text-destructive-text">
          {errorMessage(add.error)}
        </p>
      )}
    </form>
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
    <section aria-labelledby="members-heading" className="grid gap-2">
      <h3 id="members-heading" className="text-[13px] font-semibold">
        People with access
      </h3>
      <ul aria-label="Members" className="divide-y divide-border rounded-md border border-border">
        {members.map((member) => {
          const self = member.userId === me?.id;
          return (
            <li key={member.userId} data-testid="member-row" className="flex items-center gap-2 px-3 py-2 text-[13px]">
              <Avatar name={member.username} className="size-6 text-[10px]" />
              <span className="min-w-0 flex-1 truncate">
                {member.username}
                {self && <span className="text-muted-foreground"> (you)</span>}
              </span>
              {member.role === "owner" || !isOwner ? (
                <Badge>{roleLabels[member.role]}</Badge>
              ) : (
                <RoleSelect
                  label={`Role for ${member.username}`}
                  value={member.role}
                  disabled={setRole.isPending}
                  onChange={(role) => role !== member.role && setRole.mutate({ member, role })}
                />
              )}
              {isOwner && member.role !== "owner" && (
                <Button variant="ghost" size="icon-sm" aria-label={`Remove ${member.username}`} onClick={() => setRemoving(member)}>
                  <Trash2 />
                </Button>
              )}
              {!isOwner && self && (
                <Button variant="ghost" size="sm" onClick={() => setLeaving(true)}>
                  <LogOut /> Leave
                </Button>
              )}
            </li>
          );
        })}
      </ul>
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => !open && setRemoving(null)}
        title={`Remove ${removing?.username ?? ""}?`}
        description="They lose access at once, and are disconnected if they have it open."
        confirmLabel="Remove"
        destructive
        onConfirm={async () => {
          if (!removing) return;
          await api.removeMember(project.id, removing.userId);
          void refresh();
          toast.success(`Removed ${removing.username}`);
        }}
      />
      <LeaveProjectDialog project={leaving ? project : null} onOpenChange={setLeaving} onLeft={() => void navigate("/")} />
    </section>
  );
}

function InviteLinks({ project, invites }: { project: Project; invites: Invite[] }) {
  const qc = useQueryClient();
  const [role, setRole] = useState<GrantedRole>("editor");
  const [hours, setHours] = useState<number>(inviteExpiries[1].hours);
  const [created, setCreated] = useState<Invite | null>(null);
  const refresh = () => qc.invalidateQueries({ queryKey: membersQuery(project.id).queryKey });
  const create = useMutation({
    mutationFn: () => api.createInvite(project.id, role, hours),
    onSuccess: (invite) => {
      setCreated(invite);
      void refresh();
    },
  });
  const revoke = useMutation({
    mutationFn: (invite: Invite) => api.revokeInvite(project.id, invite.id),
    onSuccess: (_, invite) => {
      if (created?.id === invite.id) setCreated(null);
      void refresh();
      toast.success("Invite link revoked", { description: "It no longer lets anyone in." });
    },
    onError: (err) => toast.error("Couldn't revoke the link", { description: errorMessage(err) }),
  });
  const createdUrl = created?.url ? absoluteUrl(created.url) : null;

  return (
    <section aria-labelledby="links-heading" className="grid gap-2">
      <h3 id="links-heading" className="text-[13px] font-semibold">
        Invite link
      </h3>
      <p className="text-xs text-muted-foreground">Anyone with the link can join after logging in, until it expires or you revoke it.</p>
      <div className="flex flex-wrap items-center gap-2">
        <RoleSelect value={role} onChange={setRole} label="Link role" />
        <Select
          aria-label="Link expires after"
          value={hours}
          onChange={(e) => setHours(Number(e.target.value))}
          className="h-8 w-auto text-[13px]"
        >
          {inviteExpiries.map((x) => (
            <option key={x.hours} value={x.hours}>
              Expires after {x.label}
            </option>
          ))}
        </Select>
        <Button onClick={() => create.mutate()} disabled={create.isPending}>
          {create.isPending ? <Spinner className="text-current" /> : <Link2 />}
          Create link
        </Button>
      </div>
      {create.isError && (
        <p role="alert" className="text-xs text-destructive-text">
          {errorMessage(create.error)}
        </p>
      )}
      {createdUrl && (
        <div className="flex items-center gap-2">
          <Input readOnly value={createdUrl} aria-label="New invite link" data-testid="invite-url" onFocus={(e) => e.target.select()} className="h-8 font-mono text-xs" />
          <CopyButton text={createdUrl} what="Invite link" />
        </div>
      )}
      {invites.length > 0 && (
        <ul aria-label="Active invite links" className="divide-y divide-border rounded-md border border-border">
          {invites.map((invite) => (
            <li key={invite.id} className="flex items-center gap-2 px-3 py-1.5 text-xs">
              <Badge>{roleLabels[invite.role]}</Badge>
              <span className="min-w-0 flex-1 truncate text-muted-foreground">
                <time title={formatDate(invite.expiresAt)}>expires {timeAgo(invite.expiresAt)}</time> · made{" "}
                {timeAgo(invite.createdAt)}
              </span>
              {invite.url && invite.id !== created?.id && <CopyButton text={absoluteUrl(invite.url)} what="Invite link" />}
              <Button
                variant="ghost"
                size="icon-sm"
                aria-label="Revoke link"
                disabled={revoke.isPending}
                onClick={() => revoke.mutate(invite)}
              >
                <Trash2 />
              </Button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
