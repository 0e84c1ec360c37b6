import { Dialog, DialogContent } from "@/components/ui/dialog";
import { formatDate } from "@/lib/format";
import { ReplayPlayer } from "./replay/ReplayPlayer";

export interface PlayerTarget {
  sessionId: string;
  /** Where to start: near an error's time. */
  atMs?: number;
}

/** A recorded session played in a dialog wide enough for the page it shows. */
export function PlayerDialog({ projectId, target, onClose }: { projectId: string; target: PlayerTarget | null; onClose: () => void }) {
  return (
    <Dialog open={target !== null} onOpenChange={(open) => !open && onClose()}>
      {target && (
        <DialogContent
          title="Session replay"
          description={
            target.atMs === undefined
              ? `Session ${target.sessionId}`
              : `Session ${target.sessionId}, from just before the error at ${formatDate(target.atMs)}`
          }
          className="max-h-[calc(100vh-2rem)] max-w-5xl overflow-auto"
        >
          <ReplayPlayer projectId={projectId} sessionId={target.sessionId} atMs={target.atMs} />
        </DialogContent>
      )}
    </Dialog>
  );
}
