import { lazy, Suspense } from "react";
import { Loading } from "@/components/ui/spinner";

const Shells = lazy(() => import("./Shells"));

/** The Shell tab: the project's terminals in its sandbox; editors type in them, viewers watch. */
export function ShellPane() {
  return (
    <Suspense fallback={<Loading label="Opening the shell" />}>
      <Shells />
    </Suspense>
  );
}
