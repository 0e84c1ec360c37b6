import { SquareTerminal } from "lucide-react";
import { lazy, Suspense } from "react";
import { Loading } from "@/components/ui/spinner";
import { EmptyState } from "@/components/ui/empty-state";
import { useWorkspace } from "@/workspace/model";

const Shells = lazy(() => import("./Shells"));

/** The Shell tab: terminals in the project's sandbox, for people who can edit it. */
export function ShellPane() {
  const m = useWorkspace();
  if (!m.canEdit) {
    return (
      <EmptyState icon={SquareTerminal} title="Shell is for editors">
        A shell runs commands in this project's sandbox, so only people who can edit the project can open one. You're
        viewing it read only: you can read its files and follow its runs in the Console.
      </EmptyState>
    );
  }
  return (
    <Suspense fallback={<Loading label="Opening the shell" />}>
      <Shells />
    </Suspense>
  );
}
