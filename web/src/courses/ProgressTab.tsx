import { useQuery } from "@tanstack/react-query";
import { BarChart3, Download } from "lucide-react";
import { Link } from "react-router";
import { ErrorState } from "@/components/ErrorState";
import { buttonVariants } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading } from "@/components/ui/spinner";
import { cn } from "@/lib/utils";
import { assignmentPathFor, courseApi, courseKeys, isStaff, points, stateLabels, type Course, type ProgressCell } from "./api";

/** Students × assignments for staff (with a CSV download); a student's own row for a student. */
export function ProgressTab({ course }: { course: Course }) {
  const progress = useQuery({
    queryKey: courseKeys.progress(course.id),
    queryFn: () => courseApi.progress(course.id),
    // Grading finishes in the background: the grid catches up.
    refetchInterval: 10_000,
  });
  const staff = isStaff(course.role);
  if (progress.isPending) return <Loading label="Loading progress" />;
  if (progress.isError) return <ErrorState error={progress.error} onRetry={() => void progress.refetch()} />;
  const { assignments, students } = progress.data;
  if (assignments.length === 0 || students.length === 0) {
    return (
      <EmptyState icon={BarChart3} title={assignments.length === 0 ? "No assignments yet" : "No students yet"} className="rounded-lg border border-dashed border-border py-12">
        {assignments.length === 0
          ? "Progress shows here once the course has assignments."
          : "Share the join link from Settings; each student gets a row here."}
      </EmptyState>
    );
  }
  return (
    <div className="grid gap-3">
      {staff && (
        <div className="flex justify-end">
          <a href={courseApi.progressCsvUrl(course.id)} download className={buttonVariants({ variant: "outline", size: "sm" })}>
            <Download /> Download CSV
          </a>
        </div>
      )}
      <div className="overflow-x-auto rounded-lg border border-border">
        <table className="w-full text-[13px]" aria-label={staff ? "Progress of every student" : "My progress"} data-testid="progress-grid">
          <thead className="bg-muted text-left text-xs text-muted-foreground">
            <tr>
              <th scope="col" className="px-3 py-2 font-medium">
                Student
              </th>
              {assignments.map((a) => (
                <th key={a.id} scope="col" className="px-3 py-2 font-medium">
                  <Link to={assignmentPathFor(course.id, a.id)} className="hover:underline">
                    {a.title}
                  </Link>
                  <span className="block font-normal">{points(a.maxScore)} pts</span>
                </th>
              ))}
              <th scope="col" className="px-3 py-2 text-right font-medium">
                Total
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-border">
            {students.map((s) => {
              const total = s.cells.reduce((sum, c) => sum + (c.score ?? 0), 0);
              const max = assignments.reduce((sum, a) => sum + a.maxScore, 0);
              return (
                <tr key={s.userId} data-testid="progress-row">
                  <th scope="row" className="px-3 py-2 text-left font-medium">
                    {s.displayName || s.username}
                    {s.displayName && s.displayName !== s.username && <span className="block text-xs font-normal text-muted-foreground">@{s.username}</span>}
                  </th>
                  {assignments.map((a) => (
                    <td key={a.id} className="px-3 py-2">
                      <Cell cell={s.cells.find((c) => c.assignmentId === a.id)} />
                    </td>
                  ))}
                  <td className="px-3 py-2 text-right font-medium tabular-nums">
                    {points(total)} / {points(max)}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Cell({ cell }: { cell?: ProgressCell }) {
  if (!cell) return <span className="text-muted-foreground">—</span>;
  return (
    <span className="flex flex-wrap items-center gap-1.5" data-testid="progress-cell" data-state={cell.state}>
      {cell.score !== null ? (
        <span className="font-medium tabular-nums">
          {points(cell.score)} / {points(cell.maxScore)}
        </span>
      ) : (
        <span className={cn(cell.state === "not_started" ? "text-muted-foreground" : "text-foreground")}>{stateLabels[cell.state]}</span>
      )}
      {cell.late && <span className="rounded-full border border-warning/50 px-1.5 text-[11px] text-warning">Late</span>}
    </span>
  );
}
