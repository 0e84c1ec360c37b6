import { CircleStop } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import type { Release } from "@/lib/api";
import { useCancelRelease } from "./queries";

/** Cancels a queued or building release: the live release stays, the next in the queue builds. */
export function CancelBuild({ projectId, release }: { projectId: string; release: Release }) {
  const cancel = useCancelRelease(projectId);
  const what = release.status === "queued" ? "deploy" : "build";
  return (
    <Button
      size="sm"
      variant="outline"
      aria-label={`Cancel release #${release.number}`}
      title={`Cancel this ${what}; the live release stays as it is`}
      disabled={cancel.isPending}
      onClick={() => cancel.mutate(release.id)}
    >
      {cancel.isPending ? <Spinner className="text-current" /> : <CircleStop />} Cancel
    </Button>
  );
}
