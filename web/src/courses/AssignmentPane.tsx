import { useQuery } from "@tanstack/react-query";
import { ExternalLink } from "lucide-react";
import { Link } from "react-router";
import { useProjectSession } from "@/workspace/model";
import { ErrorState } from "@/components/ErrorState";
import { Loading } from "@/components/ui/spinner";
import { ApiError } from "@/lib/api";
import { assignmentPathFor, courseApi, courseKeys } from "./api";
import { Markdown } from "./Markdown";
import { CheckAndSubmit, StarterCheck } from "./StudentWork";

/** The assignment this project is a student's copy or the starter of; 404 (not one) is an answer, not an error. */
export function useProjectAssignment(projectId: string) {
  return useQuery({
    queryKey: courseKeys.projectAssignment(projectId),
    queryFn: async () => {
      try {
        return await courseApi.projectAssignment(projectId);
      } catch (err) {
        if (err instanceof ApiError && err.isNotFound) return null;
        throw err;
      }
    },
    staleTime: 60_000,
  });
}

/** The workspace's Assignment pane: instructions, Check (visible tests), Submit and the latest result, polled until graded. */
export function AssignmentPane() {
  const { project, store } = useProjectSession();
  const found = useProjectAssignment(project.id);
  if (found.isPending) return <Loading label="Loading the assignment" />;
  if (found.isError) return <ErrorState error={found.error} onRetry={() => void found.refetch()} />;
  if (!found.data) return null;
  const { course, assignment } = found.data;
  // The starter's teacher sees the teacher view: Check runs the visible tests on the starter; nothing to submit.
  const staff = assignment.mine === undefined;
  return (
    <div className="grid h-full content-start gap-4 overflow-y-auto p-4" data-testid="assignment-pane">
      <div>
        <p className="text-xs text-muted-foreground">{course.name}</p>
        <div className="flex items-center gap-2">
          <h2 className="min-w-0 flex-1 truncate text-base font-semibold">{assignment.title}</h2>
          <Link to={assignmentPathFor(course.id, assignment.id)} className="text-xs text-link hover:underline" target="_blank">
            <ExternalLink className="mr-1 inline size-3.5" aria-hidden />
            {staff ? "Submissions" : "Course page"}
          </Link>
        </div>
      </div>
      <Markdown source={assignment.instructions} className="text-[13px]" />
      {staff ? (
        <>
          <p className="rounded-md border border-border bg-panel px-3 py-2 text-[13px] text-muted-foreground">
            This is the assignment's starter: each student starts from a copy of it as it is when they click Start.
          </p>
          <StarterCheck courseId={course.id} assignment={assignment} saveFirst={() => store.saveAll()} />
        </>
      ) : (
        <CheckAndSubmit courseId={course.id} assignment={assignment} compact saveFirst={() => store.saveAll()} />
      )}
    </div>
  );
}
