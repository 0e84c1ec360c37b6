import { AppShell } from "@/components/AppShell";
import { useMe } from "@/auth/session";
import { formatDate } from "@/lib/format";
import { SSHKeySection } from "./SSHKeySection";
import { TokensSection } from "./TokensSection";

export function SettingsPage() {
  const me = useMe();
  const user = me.data;
  return (
    <AppShell>
      <h1 className="mb-6 text-xl font-semibold">Settings</h1>
      <div className="grid gap-8">
        {user && (
          <section aria-labelledby="account-heading" className="rounded-lg border border-border bg-panel p-5">
            <h2 id="account-heading" className="mb-3 text-base font-semibold">
              Account
            </h2>
            <dl className="grid grid-cols-[8rem_1fr] gap-y-2 text-[13px]">
              <dt className="text-muted-foreground">Username</dt>
              <dd>{user.username}</dd>
              <dt className="text-muted-foreground">Email</dt>
              <dd>{user.email}</dd>
              <dt className="text-muted-foreground">Member since</dt>
              <dd>{formatDate(user.createdAt)}</dd>
            </dl>
          </section>
        )}
        <TokensSection />
        <SSHKeySection />
      </div>
    </AppShell>
  );
}
