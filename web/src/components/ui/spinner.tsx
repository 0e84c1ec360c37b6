import { LoaderCircle } from "lucide-react";
import { cn } from "@/lib/utils";

export function Spinner({ className, label }: { className?: string; label?: string }) {
  return (
    <LoaderCircle
      className={cn("size-4 animate-spin text-muted-foreground", className)}
      role={label ? "status" : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
    />
  );
}

/** Centred spinner for a whole page or pane that is loading. */
export function Loading({ label = "Loading" }: { label?: string }) {
  return (
    <div className="flex h-full min-h-32 w-full items-center justify-center gap-2 text-sm text-muted-foreground">
      <Spinner label={label} />
      <span>{label}…</span>
    </div>
  );
}
