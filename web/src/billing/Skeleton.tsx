import { cn } from "@/lib/utils";

/** A grey block where something is loading, the size of what will be there. */
export function Skeleton({ className }: { className?: string }) {
  return <div aria-hidden className={cn("animate-pulse rounded-md bg-muted motion-reduce:animate-none", className)} />;
}
