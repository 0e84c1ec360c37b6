import type { ReactNode } from "react";
import { useMe } from "@/auth/session";
import { NotificationBell } from "@/notifications/NotificationBell";
import { Logo } from "./Logo";
import { UserMenu } from "./UserMenu";

/** Header and centred content for the dashboard and settings pages. */
export function AppShell({ children }: { children: ReactNode }) {
  const me = useMe();
  return (
    <div className="flex min-h-full flex-col">
      <header className="sticky top-0 z-10 border-b border-border bg-background/95 backdrop-blur">
        <div className="mx-auto flex h-14 max-w-5xl items-center justify-between px-4">
          <Logo />
          <div className="flex items-center gap-1">
            {me.data && <NotificationBell />}
            <UserMenu />
          </div>
        </div>
      </header>
      <main className="mx-auto w-full max-w-5xl flex-1 px-4 py-8">{children}</main>
    </div>
  );
}
