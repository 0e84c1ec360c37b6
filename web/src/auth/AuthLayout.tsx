import type { ReactNode } from "react";
import { Logo } from "@/components/Logo";

export function AuthLayout({ title, children, footer }: { title: string; children: ReactNode; footer: ReactNode }) {
  return (
    <main className="flex min-h-full flex-col items-center justify-center gap-6 px-4 py-10">
      <Logo className="text-lg" />
      <div className="w-full max-w-sm rounded-lg border border-border bg-panel p-6 shadow-sm">
        <h1 className="mb-5 text-lg font-semibold">{title}</h1>
        {children}
      </div>
      <p className="text-[13px] text-muted-foreground">{footer}</p>
    </main>
  );
}

export function FormError({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <div role="alert" className="rounded-md border border-destructive/50 bg-destructive/10 px-3 py-2 text-[13px] text-destructive-text">
      {message}
    </div>
  );
}
