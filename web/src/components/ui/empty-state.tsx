import type { LucideIcon } from "lucide-react";
import type { ReactNode } from "react";
import { cn } from "@/lib/utils";

interface EmptyStateProps {
  icon: LucideIcon;
  title: string;
  children?: ReactNode;
  action?: ReactNode;
  className?: string;
}

/** An empty pane that says what will appear here and how to get there. */
export function EmptyState({ icon: Icon, title, children, action, className }: EmptyStateProps) {
  return (
    <div className={cn("flex h-full flex-col items-center justify-center gap-3 p-6 text-center", className)}>
      <div className="rounded-full border border-border bg-muted p-3">
        <Icon className="size-5 text-muted-foreground" aria-hidden />
      </div>
      <div className="max-w-xs space-y-1">
        <h3 className="text-sm font-semibold text-foreground">{title}</h3>
        {children && <div className="text-[13px] text-muted-foreground">{children}</div>}
      </div>
      {action}
    </div>
  );
}
