import type { LucideIcon } from "lucide-react";
import { Settings } from "lucide-react";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import type { Scope } from "./api";

interface NoDataProps {
  scope: Scope;
  icon: LucideIcon;
  title: string;
  /** Opens the Settings sub-tab, where the script is switched on (a deployment's dashboards only). */
  onOpenSettings?: () => void;
}

/** Nothing arrived yet: what makes data arrive. */
export function NoData({ scope, icon, title, onOpenSettings }: NoDataProps) {
  if (scope === "platform") {
    return (
      <EmptyState icon={icon} title={title} className="h-auto rounded-md border border-dashed border-border">
        The platform's own pages report here as people use them.
      </EmptyState>
    );
  }
  return (
    <EmptyState
      icon={icon}
      title={title}
      className="h-auto rounded-md border border-dashed border-border"
      action={
        onOpenSettings && (
          <Button size="sm" onClick={onOpenSettings}>
            <Settings /> Open settings
          </Button>
        )
      }
    >
      Turn on the monitoring script in Settings, then open your site.
    </EmptyState>
  );
}
