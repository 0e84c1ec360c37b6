import type { ReactNode } from "react";
import { Link } from "react-router";
import { Logo } from "./Logo";
import { buttonVariants } from "./ui/button";

interface NotFoundPageProps {
  title?: string;
  message?: string;
  /** Further ways on, shown beside the link home. */
  children?: ReactNode;
}

export function NotFoundPage({
  title = "Page not found",
  message = "There's nothing at this address. Check the link, or head back to your projects.",
  children,
}: NotFoundPageProps) {
  return (
    <main className="flex min-h-full flex-col items-center justify-center gap-6 px-4 text-center">
      <Logo />
      <div className="space-y-2">
        <p className="font-mono text-sm text-muted-foreground">404</p>
        <h1 className="text-2xl font-semibold">{title}</h1>
        <p className="max-w-md text-muted-foreground">{message}</p>
      </div>
      <div className="flex flex-wrap justify-center gap-2">
        <Link to="/" className={buttonVariants({ variant: "primary" })}>
          Go to your projects
        </Link>
        {children}
      </div>
    </main>
  );
}
