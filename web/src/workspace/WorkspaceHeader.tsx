import {
  ArrowRightLeft,
  ChevronDown,
  ChevronLeft,
  Command,
  Copy,
  Download,
  Eye,
  GitFork,
  Globe,
  Keyboard,
  Lock,
  Network,
  UserPlus,
  Users,
} from "lucide-react";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { toast } from "sonner";
import { useMe } from "@/auth/session";
import { managesProject, roleIn } from "@/collab/members";
import { MembersDialog } from "@/collab/MembersDialog";
import { PresenceAvatars } from "@/collab/PresenceAvatars";
import { UserMenu } from "@/components/UserMenu";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/menu";
import { PromptDialog } from "@/components/ui/prompt-dialog";
import { Tooltip } from "@/components/ui/tooltip";
import { useSetInternet } from "@/dashboard/projects";
import { DeployButton } from "@/deploy/DeployButton";
import { api } from "@/lib/api";
import { modKey } from "@/lib/keys";
import { NotificationBell } from "@/notifications/NotificationBell";
import { RunControls } from "@/run/RunControls";
import { TransferDialog } from "@/teams/TransferDialog";
import { useProjectSession, useLayout } from "./model";

export function WorkspaceHeader() {
  const { project: p, canEdit, viewOnly } = useProjectSession();
  const { setOverlay } = useLayout();
  const isPublic = p.visibility === "public";
  const setInternet = useSetInternet();
  const me = useMe();
  const navigate = useNavigate();
  const [forking, setForking] = useState(false);
  const [sharing, setSharing] = useState(false);
  const [transferring, setTransferring] = useState(false);
  const loggedIn = !!me.data;
  const role = roleIn(p, me.data);

  return (
    <header className="flex h-11 shrink-0 items-center gap-2 border-b border-border bg-panel px-2">
      <Tooltip content="Back to dashboard">
        <Button variant="ghost" size="icon" asChild>
          <Link to="/" aria-label="Back to dashboard">
            <ChevronLeft />
          </Link>
        </Button>
      </Tooltip>
      <DropdownMenu>
        <DropdownMenuTrigger asChild>
          <button
            type="button"
            className="flex min-w-0 items-center gap-1 rounded px-1.5 py-1 text-[13px] hover:bg-muted"
            aria-label={`Project ${p.owner}/${p.name} menu`}
          >
            <span className="hidden truncate text-muted-foreground sm:inline">{p.owner}</span>
            <span className="hidden text-muted-foreground sm:inline">/</span>
            <span className="truncate font-semibold" data-testid="project-name">
              {p.name}
            </span>
            <ChevronDown className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />
          </button>
        </DropdownMenuTrigger>
        <DropdownMenuContent align="start">
          <DropdownMenuItem
            onSelect={() =>
              void navigator.clipboard.writeText(window.location.origin + p.url).then(
                () => toast.success("Link copied"),
                () => toast.error("Couldn't copy the link"),
              )
            }
          >
            <Copy /> Copy link
          </DropdownMenuItem>
          <DropdownMenuItem asChild>
            <a href={api.zipUrl(p.id)} download>
              <Download /> Download as zip
            </a>
          </DropdownMenuItem>
          {canEdit && (
            <DropdownMenuItem
              disabled={setInternet.isPending}
              onSelect={() => setInternet.mutate({ id: p.id, internet: !p.internet })}
            >
              <Network />
              {p.internet ? "Limit internet to package registries" : "Allow internet access"}
            </DropdownMenuItem>
          )}
          {loggedIn && (
            <DropdownMenuItem onSelect={() => setForking(true)}>
              <GitFork /> Fork
            </DropdownMenuItem>
          )}
          {managesProject(role) && (
            <DropdownMenuItem onSelect={() => setTransferring(true)}>
              <ArrowRightLeft /> Transfer…
            </DropdownMenuItem>
          )}
          <DropdownMenuSeparator />
          <DropdownMenuItem onSelect={() => setOverlay("palette")}>
            <Command /> Command palette
          </DropdownMenuItem>
          <DropdownMenuItem onSelect={() => setOverlay("help")}>
            <Keyboard /> Keyboard shortcuts
          </DropdownMenuItem>
        </DropdownMenuContent>
      </DropdownMenu>
      <Badge className="hidden sm:inline-flex">
        {isPublic ? <Globe aria-hidden /> : <Lock aria-hidden />}
        {isPublic ? "Public" : "Private"}
      </Badge>
      {!canEdit && (
        <Badge title={viewOnly ? "You were invited as a viewer: you see every change live but can't make any." : undefined}>
          <Eye aria-hidden /> {viewOnly ? "View only" : "Read only"}
        </Badge>
      )}

      <div className="mx-auto">
        <RunControls />
      </div>

      <div className="flex items-center gap-1">
        <PresenceAvatars />
        {managesProject(role) && (
          <Button size="sm" aria-label="Invite" onClick={() => setSharing(true)}>
            <UserPlus /> <span className="hidden sm:inline">Invite</span>
          </Button>
        )}
        {(role === "editor" || role === "viewer") && (
          <Tooltip content="Who has access to this project">
            <Button size="sm" variant="ghost" aria-label="Members" onClick={() => setSharing(true)}>
              <Users /> <span className="hidden sm:inline">Members</span>
            </Button>
          </Tooltip>
        )}
        {/* Members only: a public project's visitors see neither its builds nor its releases here. */}
        {role && <DeployButton projectId={p.id} />}
        {!canEdit && loggedIn && (
          <Tooltip content="Make your own editable copy">
            <Button size="sm" onClick={() => setForking(true)}>
              <GitFork /> Fork
            </Button>
          </Tooltip>
        )}
        <Tooltip content={`Command palette (${modKey} K)`}>
          <Button variant="ghost" size="icon" aria-label="Command palette" onClick={() => setOverlay("palette")}>
            <Command />
          </Button>
        </Tooltip>
        {loggedIn && <NotificationBell />}
        <UserMenu />
      </div>
      {role && <MembersDialog project={p} open={sharing} onOpenChange={setSharing} />}
      {managesProject(role) && <TransferDialog project={p} open={transferring} onOpenChange={setTransferring} />}
      <PromptDialog
        open={forking}
        onOpenChange={setForking}
        title={`Fork ${p.name}`}
        description="Copies every file into a new project of your own."
        label="Name"
        initialValue={p.name}
        submitLabel="Fork"
        onSubmit={async (name) => {
          const copy = await api.fork(p.id, name);
          toast.success(`Forked ${p.name} as ${copy.name}`);
          void navigate(copy.url);
        }}
      />
    </header>
  );
}
