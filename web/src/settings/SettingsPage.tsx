import { AppShell } from "@/components/AppShell";
import { GrantCredits } from "@/billing/GrantCredits";
import { useMe } from "@/auth/session";
import { GpusSection } from "@/gpu/GpusSection";
import { PlatformMonitoringLink } from "@/monitoring/PlatformMonitoringLink";
import { AccountSection } from "./AccountSection";
import { AdminAuditSection } from "./AdminAuditSection";
import { DeleteAccountSection } from "./DeleteAccountSection";
import { LinkedAccountsSection } from "./LinkedAccountsSection";
import { LtiPlatformsSection } from "./LtiPlatformsSection";
import { SecurityKeysSection } from "./SecurityKeysSection";
import { SecurityLogSection } from "./SecurityLogSection";
import { SessionsSection } from "./SessionsSection";
import { SSHKeySection } from "./SSHKeySection";
import { TokensSection } from "./TokensSection";

export function SettingsPage() {
  const me = useMe();
  const user = me.data;
  return (
    <AppShell>
      <h1 className="mb-6 text-xl font-semibold">Settings</h1>
      <div className="grid gap-8">
        {user && <AccountSection user={user} />}
        <LinkedAccountsSection />
        <SecurityKeysSection />
        <SessionsSection />
        <TokensSection />
        <SSHKeySection />
        <SecurityLogSection />
        {user?.isAdmin && <AdminAuditSection />}
        {user?.isAdmin && <PlatformMonitoringLink />}
        {user?.isAdmin && <GrantCredits />}
        {user?.isAdmin && <LtiPlatformsSection />}
        {user?.isAdmin && <GpusSection />}
        {user && <DeleteAccountSection user={user} />}
      </div>
    </AppShell>
  );
}
