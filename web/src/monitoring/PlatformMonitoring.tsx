import { ShieldAlert } from "lucide-react";
import { useMe } from "@/auth/session";
import { AppShell } from "@/components/AppShell";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading } from "@/components/ui/spinner";
import { Errors } from "./Errors";
import { MonitoringTabs } from "./MonitoringTabs";
import { Overview } from "./Overview";

/** For administrators: the platform's own traffic, latency, browser errors and Web Vitals. */
export function PlatformMonitoring() {
  return (
    <MonitoringTabs
      sections={(range) => ({
        overview: <Overview scope="platform" range={range} />,
        errors: <Errors scope="platform" range={range} canEdit />,
      })}
    />
  );
}

/** /settings/monitoring: the platform's monitoring, for its administrators only. */
export default function PlatformMonitoringPage() {
  const me = useMe();
  return (
    <AppShell>
      <h1 className="mb-1 text-xl font-semibold">Platform monitoring</h1>
      <p className="mb-4 text-[13px] text-muted-foreground">This server's own API and pages, as its router and its users' browsers saw them.</p>
      {me.isPending ? (
        <Loading />
      ) : me.data?.isAdmin ? (
        <div className="rounded-lg border border-border bg-panel">
          <PlatformMonitoring />
        </div>
      ) : (
        <EmptyState icon={ShieldAlert} title="For administrators">
          Only the server's administrators see its monitoring.
        </EmptyState>
      )}
    </AppShell>
  );
}
