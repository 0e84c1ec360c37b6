import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { FlaskConical, Send } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { courseApi, courseKeys, settled, type Assignment, type GradeResult, type Submission } from "./api";
import { ResultView, SubmissionSummary } from "./Results";

/** The caller's submissions to an assignment, polled every second while one is still being graded. */
export function useMySubmissions(courseId: string, assignmentId: string) {
  return useQuery({
    queryKey: courseKeys.submissions(courseId, assignmentId),
    queryFn: () => courseApi.submissions(courseId, assignmentId),
    refetchInterval: (q) => (q.state.data?.some((s) => !settled(s)) ? 1000 : false),
  });
}

async function saved(saveFirst?: () => Promise<boolean>) {
  if (saveFirst && !(await saveFirst())) throw new Error("Some files couldn't be saved. Save them (the editor says why), then try again.");
}

/** How many more submissions the rules allow (null: unlimited). */
function submissionsLeft(a: Assignment, made: number): number | null {
  return a.maxSubmissions > 0 ? Math.max(0, a.maxSubmissions - made) : null;
}

/**
 * Check (the visible tests, now) and Submit (a snapshot, graded in the background),
 * with the check's result and the latest submission as it is graded.
 */
export function CheckAndSubmit({
  courseId,
  assignment,
  compact = false,
  saveFirst,
}: {
  courseId: string;
  assignment: Assignment;
  compact?: boolean;
  /** In the workspace: saves open files, so what is checked and submitted is what the person sees. */
  saveFirst?: () => Promise<boolean>;
}) {
  const qc = useQueryClient();
  const submissions = useMySubmissions(courseId, assignment.id);
  const [checked, setChecked] = useState<GradeResult | null>(null);
  const [confirming, setConfirming] = useState(false);
  const check = useMutation({
    mutationFn: async () => {
      await saved(saveFirst);
      return courseApi.check(courseId, assignment.id);
    },
    onSuccess: setChecked,
  });
  const refresh = (s: Submission) => {
    qc.setQueryData<Submission[]>(courseKeys.submissions(courseId, assignment.id), (list) => [s, ...(list ?? []).filter((o) => o.id !== s.id)]);
    void qc.invalidateQueries({ queryKey: courseKeys.assignments(courseId) });
    void qc.invalidateQueries({ queryKey: courseKeys.assignment(courseId, assignment.id) });
    void qc.invalidateQueries({ queryKey: courseKeys.progress(courseId) });
  };
  const list = submissions.data ?? [];
  const latest = list[0];
  const left = submissionsLeft(assignment, list.length);
  const overdue = assignment.dueAt !== null && assignment.dueAt < Date.now();
  const closed = overdue && assignment.latePolicy.kind === "reject";

  return (
    <div className="grid gap-4">
      <div className="flex flex-wrap items-center gap-2">
        <Button onClick={() => check.mutate()} disabled={check.isPending}>
          {check.isPending ? <Spinner /> : <FlaskConical />} {check.isPending ? "Checking…" : "Check"}
        </Button>
        <Button variant="primary" onClick={() => setConfirming(true)} disabled={left === 0 || closed}>
          <Send /> Submit
        </Button>
        <span className="text-xs text-muted-foreground">
          {left === null ? "Unlimited submissions" : `${left} submission${left === 1 ? "" : "s"} left`}
          {assignment.dueAt !== null && ` · due ${formatDate(assignment.dueAt)}`}
          {closed && " · closed: late work isn't accepted"}
          {overdue && assignment.latePolicy.kind === "penalty" && ` · late: −${assignment.latePolicy.percentPerDay} % a day`}
        </span>
      </div>
      {check.isPending && (
        <p className="flex items-center gap-2 text-[13px] text-muted-foreground" role="status">
          <Spinner /> Running the visible tests in a fresh sandbox…
        </p>
      )}
      {check.isError && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {errorMessage(check.error)}
        </p>
      )}
      {checked && !check.isPending && (
        <div className="grid gap-1">
          <h3 className="text-sm font-semibold">Check: visible tests</h3>
          <ResultView result={checked} label="Check results" />
          {(assignment.hiddenTests ?? 0) > 0 && (
            <p className="text-xs text-muted-foreground">
              {assignment.hiddenTests === 1 ? "1 hidden test also runs" : `${assignment.hiddenTests} hidden tests also run`} when you submit.
            </p>
          )}
        </div>
      )}
      {latest && (
        <div className="grid gap-1">
          <h3 className="text-sm font-semibold">{compact ? "Latest submission" : "Your latest submission"}</h3>
          <SubmissionSummary submission={latest} rubric={assignment.rubric} />
        </div>
      )}
      <ConfirmDialog
        open={confirming}
        onOpenChange={setConfirming}
        title="Submit your work?"
        description={
          <>
            Your project's files as they are now are graded, hidden tests included.
            {left !== null && ` You have ${left} submission${left === 1 ? "" : "s"} left.`}
            {overdue && assignment.latePolicy.kind === "penalty" && " It is past the due date: the late penalty applies."}
          </>
        }
        confirmLabel="Submit"
        onConfirm={async () => {
          await saved(saveFirst);
          const s = await courseApi.submit(courseId, assignment.id);
          refresh(s);
          toast.success(`Submission ${s.number} is being graded`);
        }}
      />
    </div>
  );
}

/** Every earlier submission of the student's, newest first, each with its score and feedback. */
export function MySubmissions({ courseId, assignment }: { courseId: string; assignment: Assignment }) {
  const submissions = useMySubmissions(courseId, assignment.id);
  const earlier = (submissions.data ?? []).slice(1);
  if (earlier.length === 0) return null;
  return (
    <section aria-labelledby="earlier-submissions" className="grid gap-2">
      <h2 id="earlier-submissions" className="text-base font-semibold">
        Earlier submissions
      </h2>
      <ul className="grid gap-2">
        {earlier.map((s) => (
          <li key={s.id}>
            <details className="rounded-md border border-border px-3 py-2">
              <summary className="cursor-pointer text-[13px]">
                Submission {s.number}
                {s.score !== null && ` · ${Math.round(s.score * 100) / 100} / ${s.maxScore}`}
              </summary>
              <div className="mt-2">
                <SubmissionSummary submission={s} rubric={assignment.rubric} />
              </div>
            </details>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The teacher's Check on the starter: the visible tests, run now. */
export function StarterCheck({ courseId, assignment, saveFirst }: { courseId: string; assignment: Assignment; saveFirst?: () => Promise<boolean> }) {
  const check = useMutation({
    mutationFn: async () => {
      await saved(saveFirst);
      return courseApi.check(courseId, assignment.id);
    },
  });
  return (
    <div className="grid gap-3">
      <div>
        <Button onClick={() => check.mutate()} disabled={check.isPending}>
          {check.isPending ? <Spinner /> : <FlaskConical />} {check.isPending ? "Checking…" : "Check the visible tests"}
        </Button>
      </div>
      {check.isError && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {errorMessage(check.error)}
        </p>
      )}
      {check.data && <ResultView result={check.data} />}
    </div>
  );
}
