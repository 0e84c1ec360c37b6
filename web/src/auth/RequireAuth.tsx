import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import { Loading } from "@/components/ui/spinner";
import { ErrorState } from "@/components/ErrorState";
import { useMe } from "./session";

/** Renders children for a signed-in person; sends everyone else to /login. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorState error={me.error} onRetry={() => void me.refetch()} />;
  if (!me.data) {
    const next = location.pathname + location.search;
    return <Navigate to={next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return children;
}
