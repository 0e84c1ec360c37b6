import { Eye, X } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Tooltip } from "@/components/ui/tooltip";
import { basename } from "@/lib/paths";
import { cn } from "@/lib/utils";
import { useProjectSession } from "@/workspace/model";
import { readableOn } from "./cursors";
import { usePresence } from "./presence";
import type { Peer } from "./protocol";

/** Past this many, the rest are counted ("+3"). */
const MAX_SHOWN = 5;

/** The others in the project, in their colours; a click follows one of them. */
export function PresenceAvatars() {
  const { presence } = useProjectSession();
  const peers = usePresence(presence, (s) => s.peers);
  const following = usePresence(presence, (s) => s.following);
  if (peers.length === 0) return null;
  const shown = peers.slice(0, MAX_SHOWN);
  const rest = peers.slice(MAX_SHOWN);

  return (
    <div role="group" aria-label="People in this project" data-testid="avatars" className="flex items-center -space-x-1.5">
      {shown.map((p) => {
        const followed = following?.id === p.id;
        const where = p.file ? basename(p.file) : "no file open";
        return (
          <Tooltip key={p.id} content={`${p.username} — ${where}${followed ? " (following)" : ""}`}>
            <button
              type="button"
              aria-label={followed ? `Stop following ${p.username}` : `Follow ${p.username}`}
              aria-pressed={followed}
              data-testid="peer-avatar"
              onClick={() => (followed ? presence.unfollow() : presence.follow(p.id))}
              className={cn(
                "relative grid size-7 place-items-center rounded-full border-2 border-panel text-[11px] font-semibold uppercase transition-transform duration-100 hover:z-10 hover:-translate-y-0.5",
                followed && "z-10 ring-2 ring-offset-1 ring-offset-panel",
              )}
              style={{ backgroundColor: p.color, color: readableOn(p.color), ["--tw-ring-color" as string]: p.color }}
            >
              {p.username.slice(0, 2)}
              {p.role === "viewer" && (
                <span className="absolute -right-1 -bottom-1 grid size-3.5 place-items-center rounded-full bg-muted text-muted-foreground">
                  <Eye className="size-2.5" aria-hidden />
                </span>
              )}
            </button>
          </Tooltip>
        );
      })}
      {rest.length > 0 && (
        <Tooltip content={rest.map((p) => `${p.username} — ${p.file ? basename(p.file) : "no file open"}`).join(", ")}>
          <span
            tabIndex={0}
            className="grid size-7 place-items-center rounded-full border-2 border-panel bg-muted text-[11px] font-semibold text-muted-foreground"
          >
            +{rest.length}
          </span>
        </Tooltip>
      )}
    </div>
  );
}

/** "Following NAME · Stop", above the editor while this tab follows someone. */
export function FollowBar() {
  const { presence } = useProjectSession();
  const peer = usePresence(presence, (s) => s.following);
  if (!peer) return null;
  return (
    <div
      role="status"
      data-testid="follow-bar"
      className="flex h-7 shrink-0 items-center gap-2 border-b px-3 text-xs"
      style={{ borderColor: peer.color, boxShadow: `inset 3px 0 0 ${peer.color}` }}
    >
      <PeerDot peer={peer} />
      <span>
        Following <strong className="font-semibold">{peer.username}</strong>
        {peer.file ? ` · ${basename(peer.file)}` : " · no file open"}
      </span>
      <Button variant="ghost" size="sm" className="ml-auto h-5 px-1.5 text-xs" onClick={() => presence.unfollow()}>
        <X className="size-3" /> Stop
      </Button>
    </div>
  );
}

function PeerDot({ peer }: { peer: Peer }) {
  return <span aria-hidden className="size-2 rounded-full" style={{ backgroundColor: peer.color }} />;
}
