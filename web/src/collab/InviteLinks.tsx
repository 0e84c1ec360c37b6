import { useMutation } from "@tanstack/react-query";
import { Link2, Trash2 } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { Input, Select } from "@/components/ui/input";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { absoluteUrl, inviteExpiries } from "./members";
import { PeopleList, PeopleSection, RoleSelect, rowPadding, type RoleOption, type Surface } from "./people";

/** What a project's and a team's invite links have in common. */
export interface InviteLink<R extends string> {
  id: string;
  role: R;
  expiresAt: number;
  createdAt: number;
  /** Only in the answer that created it: the server keeps no copy of the secret. */
  url?: string;
}

interface InviteLinksProps<R extends string> {
  surface: Surface;
  title: string;
  description: string;
  /** The roles a link may give. */
  roles: readonly RoleOption<R>[];
  initialRole: R;
  roleLabels: Record<R, string>;
  invites: InviteLink<R>[];
  create: (role: R, expiresInHours: number) => Promise<InviteLink<R>>;
  revoke: (invite: InviteLink<R>) => Promise<unknown>;
  /** After a link is made or revoked, to refetch the list. */
  onChange: () => void;
  /** The new link's input, for tests. */
  urlTestId: string;
  listLabel: string;
  revokeLabel: (invite: InviteLink<R>) => string;
}

/** Making invite links with a role and an expiry, showing the new one to copy, and listing and revoking the open ones. */
export function InviteLinks<R extends string>(props: InviteLinksProps<R>) {
  const { surface, roles, invites, onChange } = props;
  const [role, setRole] = useState<R>(props.initialRole);
  const [hours, setHours] = useState<number>(inviteExpiries[1].hours);
  const [created, setCreated] = useState<InviteLink<R> | null>(null);
  const create = useMutation({
    mutationFn: () => props.create(role, hours),
    onSuccess: (invite) => {
      setCreated(invite);
      onChange();
    },
  });
  const revoke = useMutation({
    mutationFn: props.revoke,
    onSuccess: (_, invite) => {
      if (created?.id === invite.id) setCreated(null);
      onChange();
      toast.success("Invite link revoked", { description: "It no longer lets anyone in." });
    },
    onError: (err) => toast.error("Couldn't revoke the link", { description: errorMessage(err) }),
  });
  const createdUrl = created?.url ? absoluteUrl(created.url) : null;

  return (
    <PeopleSection surface={surface} title={props.title}>
      <p className={cn("text-muted-foreground", surface === "dialog" ? "text-xs" : "text-[13px]")}>{props.description}</p>
      <div className="flex flex-wrap items-center gap-2">
        <RoleSelect value={role} options={roles} onChange={setRole} label="Link role" />
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
          <Input
            readOnly
            value={createdUrl}
            aria-label="New invite link"
            data-testid={props.urlTestId}
            onFocus={(e) => e.target.select()}
            className="h-8 font-mono text-xs"
          />
          <CopyButton text={createdUrl} what="Invite link" />
        </div>
      )}
      {invites.length > 0 && (
        <PeopleList surface={surface} label={props.listLabel}>
          {invites.map((invite) => (
            <li key={invite.id} className={cn("flex items-center gap-2 py-1.5 text-xs", rowPadding[surface])}>
              <Badge>{props.roleLabels[invite.role]}</Badge>
              <span className="min-w-0 flex-1 truncate text-muted-foreground">
                <time title={formatDate(invite.expiresAt)}>expires {timeAgo(invite.expiresAt)}</time> · made{" "}
                {timeAgo(invite.createdAt)}
              </span>
              {invite.url && invite.id !== created?.id && <CopyButton text={absoluteUrl(invite.url)} what="Invite link" />}
              <Button
                variant="ghost"
                size="icon-sm"
                aria-label={props.revokeLabel(invite)}
                disabled={revoke.isPending}
                onClick={() => revoke.mutate(invite)}
              >
                <Trash2 />
              </Button>
            </li>
          ))}
        </PeopleList>
      )}
    </PeopleSection>
  );
}
