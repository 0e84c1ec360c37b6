import { useMutation, useQueryClient } from "@tanstack/react-query";
import { CircleCheck, EyeOff, RotateCcw } from "lucide-react";
import type { ReactNode } from "react";
import { toast } from "sonner";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { cn } from "@/lib/utils";
import { monitoringApi, monitoringKeys, type ErrorGroup, type ErrorStatus, type Scope } from "./api";

const statusBadge: Record<ErrorStatus, string> = {
  open: "border-destructive-text/50 text-destructive-text",
  resolved: "border-primary/50 text-foreground",
  ignored: "",
};

export function StatusBadge({ status }: { status: ErrorStatus }) {
  return <Badge className={cn("capitalize", statusBadge[status])}>{status}</Badge>;
}

/** Resolve or ignore an open group; reopen the others. A resolved group that happens again reopens by itself. */
export function StatusActions({ scope, group }: { scope: Scope; group: ErrorGroup }) {
  const qc = useQueryClient();
  const change = useMutation({
    mutationFn: (status: ErrorStatus) => monitoringApi.setErrorStatus(scope, group.fingerprint, status),
    onSuccess: () => qc.invalidateQueries({ queryKey: monitoringKeys.errors(scope) }),
    onError: (err) => toast.error("Couldn't change the error's status", { description: errorMessage(err) }),
  });
  // The spinner sits on the button that was pressed.
  const icon = (to: ErrorStatus, idle: ReactNode) =>
    change.isPending && change.variables === to ? <Spinner className="text-current" /> : idle;
  if (group.status !== "open") {
    return (
      <Button size="sm" variant="ghost" disabled={change.isPending} onClick={() => change.mutate("open")}>
        {icon("open", <RotateCcw />)} Reopen
      </Button>
    );
  }
  return (
    <span className="flex shrink-0 gap-1">
      <Button size="sm" disabled={change.isPending} onClick={() => change.mutate("resolved")}>
        {icon("resolved", <CircleCheck />)} Resolve
      </Button>
      <Button size="sm" variant="ghost" disabled={change.isPending} onClick={() => change.mutate("ignored")}>
        {icon("ignored", <EyeOff />)} Ignore
      </Button>
    </span>
  );
}
