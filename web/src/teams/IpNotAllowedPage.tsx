import { ShieldX } from "lucide-react";
import { Link } from "react-router";
import { Logo } from "@/components/Logo";
import { buttonVariants } from "@/components/ui/button";
import { ApiError } from "@/lib/api";

/** Whether err is a team's allowlist refusing the caller's network address. */
export function isIpNotAllowed(err: unknown): err is ApiError {
  return err instanceof ApiError && err.code === "ip_not_allowed";
}

/**
 * The whole page, when a team's IP allowlist keeps the person out of the team
 * or one of its projects. The server's message names their address and the team.
 */
export function IpNotAllowedPage({ error }: { error: ApiError }) {
  return (
    <main className="flex min-h-full flex-col items-center justify-center gap-6 px-4 text-center">
      <title>Address not allowed · E-Code</title>
      <Logo />
      <div className="grid justify-items-center gap-2">
        <div className="rounded-full border border-destructive-text/40 bg-destructive/10 p-3">
          <ShieldX className="size-6 text-destructive-text" aria-hidden />
        </div>
        <p className="font-mono text-sm text-muted-foreground">403</p>
        <h1 className="text-2xl font-semibold">Your network address isn't allowed</h1>
        <p role="alert" className="max-w-md text-muted-foreground">
          {error.message}
        </p>
      </div>
      <Link to="/" className={buttonVariants({ variant: "primary" })}>
        Go to your projects
      </Link>
    </main>
  );
}
