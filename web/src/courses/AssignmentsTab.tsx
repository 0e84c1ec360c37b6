import { useQuery } from "@tanstack/react-query";
import { ClipboardList, Plus } from "lucide-react";
import { Link } from "react-router";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { buttonVariants } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading } from "@/components/ui/spinner";
import { formatDate } from "@/lib/format";
import { assignmentPathFor, courseApi, courseKeys, isStaff, points, type Assignment, type Course } from "./api";
import { ScoreBadge, StateBadge } from "./Results";

/** The course's assignments: all of them for staff (drafts marked), the published ones with the student's state for students. */
export function AssignmentsTab({ course }: { course: Course }) {
  const assignments = useQuery({ queryKey: courseKeys.assignments(course.id), queryFn: () => courseApi.assignments(course.id) });
  const teacher = course.role === "teacher";
  return (
    <div className="grid gap-4">
      {teacher && (
        <div className="flex justify-end">
          <Link to={assignmentPathFor(course.id, "new")} className={buttonVariants({ variant: "primary" })}>
            <Plus /> New assignment
          </Link>
        </div>
      )}
      {assignments.isPending && <Loading label="Loading assignments" />}
      {assignments.isError && <ErrorState error={assignments.error} onRetry={() => void assignments.refetch()} />}
      {assignments.data?.length === 0 && (
        <EmptyState icon={ClipboardList} title="No assignments yet" className="rounded-lg border border-dashed border-border py-12">
          {teacher
            ? "Create one from a template or one of your projects, with tests that grade it."
            : "Your teacher hasn't published any assignments yet. They show here when they do."}
        </EmptyState>
      )}
      {assignments.data && assignments.data.length > 0 && (
        <ul className="divide-y divide-border rounded-lg border border-border bg-panel" aria-label="Assignments">
          {assignments.data.map((a) => (
            <AssignmentRow key={a.id} course={course} assignment={a} />
          ))}
        </ul>
      )}
    </div>
  );
}

function AssignmentRow({ course, assignment: a }: { course: Course; assignment: Assignment }) {
  const overdue = a.dueAt !== null && a.dueAt < Date.now();
  return (
    <li>
      <Link
        to={assignmentPathFor(course.id, a.id)}
        className="flex flex-wrap items-center gap-3 px-4 py-3 hover:bg-muted focus-visible:outline-2 focus-visible:outline-offset-[-2px] focus-visible:outline-ring"
      >
        <span className="min-w-0 flex-1 truncate text-sm font-medium">{a.title}</span>
        {isStaff(course.role) && !a.published && <Badge>Draft</Badge>}
        {a.mine && (a.mine.best ? <ScoreBadge submission={a.mine.best} /> : <StateBadge state={a.mine.state} />)}
        <span className={`text-xs ${overdue ? "text-warning" : "text-muted-foreground"}`}>
          {a.dueAt === null ? "No due date" : `Due ${formatDate(a.dueAt)}`}
        </span>
        <span className="text-xs text-muted-foreground">{points(a.maxScore)} pts</span>
      </Link>
    </li>
  );
}
