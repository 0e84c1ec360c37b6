import { useQuery } from "@tanstack/react-query";
import { ChevronDown, History } from "lucide-react";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuSeparator,
  DropdownMenuTrigger,
} from "@/components/ui/menu";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { timeAgo } from "@/lib/format";
import { statusLabel } from "./describe";
import { agentRunsQuery } from "./queries";

/** The project's earlier runs, newest first, to open one. */
export function RunPicker({ projectId, openId, onOpen }: { projectId: string; openId: string | null; onOpen: (id: string | null) => void }) {
  const runs = useQuery(agentRunsQuery(projectId));
  return (
    <DropdownMenu onOpenChange={(open) => open && void runs.refetch()}>
      <DropdownMenuTrigger asChild>
        <Button size="sm" variant="ghost" aria-label="Earlier runs">
          <History /> Runs <ChevronDown className="text-muted-foreground" />
        </Button>
      </DropdownMenuTrigger>
      <DropdownMenuContent className="max-h-80 w-72 overflow-y-auto">
        <DropdownMenuItem disabled={openId === null} onSelect={() => onOpen(null)}>
          Latest run
        </DropdownMenuItem>
        <DropdownMenuSeparator />
        <DropdownMenuLabel>Earlier runs</DropdownMenuLabel>
        {runs.isPending && (
          <div className="px-2 py-1.5">
            <Spinner label="Loading runs" />
          </div>
        )}
        {runs.isError && <p className="px-2 py-1.5 text-xs text-destructive-text">{errorMessage(runs.error)}</p>}
        {runs.data?.length === 0 && <p className="px-2 py-1.5 text-xs text-muted-foreground">No runs yet.</p>}
        {runs.data?.map((r) => (
          <DropdownMenuItem key={r.id} onSelect={() => onOpen(r.id)} className="grid gap-0.5" aria-current={r.id === openId || undefined}>
            <span className="truncate text-foreground">{r.prompt}</span>
            <span className="text-xs text-muted-foreground">
              {statusLabel[r.status]} · {timeAgo(r.createdAt)}
            </span>
          </DropdownMenuItem>
        ))}
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
