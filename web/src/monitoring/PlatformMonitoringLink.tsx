import { Activity } from "lucide-react";
import { Link } from "react-router";
import { buttonVariants } from "@/components/ui/button";

export const platformMonitoringPath = "/settings/monitoring";

/** For administrators, in Settings: the way to the platform's own monitoring. */
export function PlatformMonitoringLink() {
  return (
    <section aria-labelledby="platform-monitoring-heading" className="rounded-lg border border-border bg-panel p-5">
      <h2 id="platform-monitoring-heading" className="text-base font-semibold">
        Platform monitoring
      </h2>
      <p className="mb-4 text-[13px] text-muted-foreground">
        You administer this server: its API's traffic and latency per route, and the errors and Web Vitals of its pages.
      </p>
      <Link to={platformMonitoringPath} className={buttonVariants({ variant: "secondary", size: "sm" })}>
        <Activity /> Open platform monitoring
      </Link>
    </section>
  );
}
