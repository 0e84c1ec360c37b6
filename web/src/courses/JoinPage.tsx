import { GraduationCap } from "lucide-react";
import { Link, useParams } from "react-router";
import { AppShell } from "@/components/AppShell";
import { Button, buttonVariants } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { errorMessage } from "@/lib/api";
import { useJoin } from "./CoursesPage";

/** /courses/join/:code, the link a teacher shares: one click joins the course as a student. */
export default function JoinPage() {
  const { code = "" } = useParams();
  const join = useJoin();
  return (
    <AppShell>
      <title>Join a course · E-Code</title>
      <EmptyState
        icon={GraduationCap}
        title="Join this course?"
        className="rounded-lg border border-border py-16"
        action={
          <div className="flex flex-wrap justify-center gap-2">
            <Button variant="primary" onClick={() => join.mutate(code)} disabled={join.isPending}>
              Join as a student
            </Button>
            <Link to="/courses" className={buttonVariants({ variant: "ghost" })}>
              Not now
            </Link>
          </div>
        }
      >
        <p>
          You were invited with the code <span className="font-mono text-foreground">{code.toUpperCase()}</span>. You'll see the course's
          assignments and your own progress.
        </p>
        {join.isError && (
          <p role="alert" className="mt-2 text-destructive-text">
            {errorMessage(join.error)} Ask your teacher for a new link.
          </p>
        )}
      </EmptyState>
    </AppShell>
  );
}
