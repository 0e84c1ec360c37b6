import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Download, FileText, Flag, Inbox, RotateCcw, Save, X } from "lucide-react";
import { Dialog as DialogPrimitive } from "radix-ui";
import { useEffect, useState, type FormEvent } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { overlayClass } from "@/components/ui/dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Input, inputClass } from "@/components/ui/input";
import { Loading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { formatBytes, formatDate, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { courseApi, courseKeys, points, settled, type Assignment, type Course, type SimilarityPair, type Submission } from "./api";
import { LateBadge, ResultView, ScoreBadge } from "./Results";

/** Everyone's submissions, newest first, with the pairs flagged as too similar; a row opens its detail. */
export function Submissions({ course, assignment }: { course: Course; assignment: Assignment }) {
  const submissions = useQuery({
    queryKey: courseKeys.submissions(course.id, assignment.id),
    queryFn: () => courseApi.submissions(course.id, assignment.id),
    refetchInterval: (q) => (q.state.data?.some((s) => !settled(s)) ? 2000 : 30_000),
  });
  const similarity = useQuery({
    queryKey: courseKeys.similarity(course.id, assignment.id),
    queryFn: () => courseApi.similarity(course.id, assignment.id),
  });
  const [open, setOpen] = useState<string | null>(null);
  const flagged = (similarity.data?.pairs ?? []).filter((p) => p.score >= (similarity.data?.threshold ?? 1));
  const flagsOf = (s: Submission) => flagged.filter((p) => p.a.submissionId === s.id || p.b.submissionId === s.id);

  return (
    <section aria-labelledby="submissions-heading" className="grid gap-3">
      <h2 id="submissions-heading" className="text-base font-semibold">
        Submissions
      </h2>
      {flagged.length > 0 && <SimilarityFlags pairs={flagged} />}
      {similarity.isError && <p className="text-[13px] text-muted-foreground">Similarity isn't available: {errorMessage(similarity.error)}</p>}
      {submissions.isPending && <Loading label="Loading submissions" />}
      {submissions.isError && <ErrorState error={submissions.error} onRetry={() => void submissions.refetch()} />}
      {submissions.data?.length === 0 && (
        <EmptyState icon={Inbox} title="No submissions yet" className="rounded-lg border border-dashed border-border py-10">
          Students' submissions show here as they come in, graded in the background.
        </EmptyState>
      )}
      {submissions.data && submissions.data.length > 0 && (
        <div className="overflow-x-auto rounded-lg border border-border">
          <table className="w-full text-[13px]" aria-label="Submissions">
            <thead className="bg-muted text-left text-xs text-muted-foreground">
              <tr>
                <th className="px-3 py-2 font-medium">Student</th>
                <th className="px-3 py-2 font-medium">#</th>
                <th className="px-3 py-2 font-medium">Submitted</th>
                <th className="px-3 py-2 font-medium">Score</th>
                <th className="px-3 py-2 font-medium">Flags</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-border">
              {submissions.data.map((s) => (
                <tr key={s.id} className="cursor-pointer hover:bg-muted" onClick={() => setOpen(s.id)} data-testid="submission-row">
                  <td className="px-3 py-2">
                    <button type="button" className="font-medium hover:underline" onClick={() => setOpen(s.id)}>
                      {s.username}
                    </button>
                  </td>
                  <td className="px-3 py-2 tabular-nums">{s.number}</td>
                  <td className="px-3 py-2 text-muted-foreground">
                    <time title={formatDate(s.submittedAt)}>{timeAgo(s.submittedAt)}</time>
                  </td>
                  <td className="px-3 py-2">
                    <span className="flex flex-wrap gap-1.5">
                      <ScoreBadge submission={s} />
                      <LateBadge submission={s} />
                    </span>
                  </td>
                  <td className="px-3 py-2">
                    {flagsOf(s).map((p) => (
                      <Badge key={`${p.a.submissionId}-${p.b.submissionId}`} className="border-warning/50 text-warning">
                        <Flag aria-hidden /> {Math.round(p.score * 100)} % like {p.a.submissionId === s.id ? p.b.username : p.a.username}
                      </Badge>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <SubmissionDrawer course={course} assignment={assignment} submissionId={open} onClose={() => setOpen(null)} />
    </section>
  );
}

function SimilarityFlags({ pairs }: { pairs: SimilarityPair[] }) {
  return (
    <div role="note" className="grid gap-1 rounded-md border border-warning/50 bg-warning/10 px-3 py-2 text-[13px]" data-testid="similarity-flags">
      <p className="flex items-center gap-1.5 font-medium">
        <Flag className="size-4 text-warning" aria-hidden /> Submissions that look alike
      </p>
      <ul className="grid gap-0.5">
        {pairs.map((p) => (
          <li key={`${p.a.submissionId}-${p.b.submissionId}`}>
            {p.a.username} and {p.b.username}: {Math.round(p.score * 100)} % similar
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A side panel: the submission's tests with their output, its files, and the hand-grading form. */
function SubmissionDrawer({ course, assignment, submissionId, onClose }: { course: Course; assignment: Assignment; submissionId: string | null; onClose: () => void }) {
  return (
    <DialogPrimitive.Root open={submissionId !== null} onOpenChange={(open) => !open && onClose()}>
      <DialogPrimitive.Portal>
        <DialogPrimitive.Overlay className={overlayClass} />
        <DialogPrimitive.Content
          aria-describedby={undefined}
          className="fixed inset-y-0 right-0 z-50 flex w-full max-w-2xl flex-col border-l border-border bg-popover text-popover-foreground shadow-xl focus:outline-none"
        >
          {submissionId && <SubmissionDetail course={course} assignment={assignment} id={submissionId} />}
          <DialogPrimitive.Close asChild>
            <Button variant="ghost" size="icon-sm" className="absolute top-3 right-3" aria-label="Close">
              <X />
            </Button>
          </DialogPrimitive.Close>
        </DialogPrimitive.Content>
      </DialogPrimitive.Portal>
    </DialogPrimitive.Root>
  );
}

function SubmissionDetail({ course, assignment, id }: { course: Course; assignment: Assignment; id: string }) {
  const qc = useQueryClient();
  const submission = useQuery({
    queryKey: courseKeys.submission(course.id, id),
    queryFn: () => courseApi.submission(course.id, id),
    refetchInterval: (q) => (q.state.data && settled(q.state.data) ? false : 1000),
  });
  const regrade = useMutation({
    mutationFn: () => courseApi.regrade(course.id, id),
    onSuccess: (s) => {
      qc.setQueryData(courseKeys.submission(course.id, id), s);
      void qc.invalidateQueries({ queryKey: courseKeys.submissions(course.id, assignment.id) });
      toast.success("Grading again");
    },
    onError: (err) => toast.error("Couldn't regrade", { description: errorMessage(err) }),
  });
  if (submission.isPending) return <Loading label="Loading the submission" />;
  if (submission.isError) return <ErrorState error={submission.error} onRetry={() => void submission.refetch()} />;
  const s = submission.data;
  return (
    <div className="grid gap-5 overflow-y-auto p-5">
      <div>
        <DialogPrimitive.Title className="pr-8 text-base font-semibold">
          {s.username} · submission {s.number}
        </DialogPrimitive.Title>
        <div className="mt-1 flex flex-wrap items-center gap-2 text-[13px] text-muted-foreground">
          <ScoreBadge submission={s} />
          <LateBadge submission={s} />
          <time title={formatDate(s.submittedAt)}>submitted {timeAgo(s.submittedAt)}</time>
          {s.autoScore !== null && (
            <span>
              tests {points(s.autoScore)} / {points(s.autoMax)}
            </span>
          )}
          {s.lms && (
            <Badge className={cn(s.lms.status === "failed" && "text-destructive-text")} title={s.lms.error}>
              LMS: {s.lms.status}
            </Badge>
          )}
          {course.role === "teacher" && (
            <Button size="sm" variant="ghost" onClick={() => regrade.mutate()} disabled={regrade.isPending || !settled(s)}>
              <RotateCcw /> Regrade
            </Button>
          )}
        </div>
        {s.reason && (
          <p role="alert" className="mt-2 text-[13px] text-destructive-text">
            {s.reason}
          </p>
        )}
      </div>
      {s.result ? <ResultView result={s.result} /> : !settled(s) && <Loading label="Grading" />}
      <Files course={course} submission={s} />
      <ManualGrade key={s.id + String(s.gradedAt)} course={course} assignment={assignment} submission={s} />
    </div>
  );
}

/** Files up to this size are shown in place; larger ones only downloaded. */
const maxShown = 256 * 1024;

function Files({ course, submission }: { course: Course; submission: Submission }) {
  const files = useQuery({ queryKey: courseKeys.files(course.id, submission.id), queryFn: () => courseApi.submissionFiles(course.id, submission.id) });
  const [path, setPath] = useState<string | null>(null);
  const [text, setText] = useState<{ path: string; body: string } | { path: string; error: string } | null>(null);
  const chosen = files.data?.find((f) => f.path === path);
  const readable = chosen !== undefined && chosen.size <= maxShown;
  useEffect(() => {
    if (!path || !readable) return;
    const ctl = new AbortController();
    fetch(courseApi.submissionFileUrl(course.id, submission.id, path), { credentials: "same-origin", signal: ctl.signal })
      .then(async (res) => {
        if (!res.ok) throw new Error(`The server answered ${res.status}.`);
        setText({ path, body: await res.text() });
      })
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setText({ path, error: errorMessage(err) });
      });
    return () => ctl.abort();
  }, [course.id, submission.id, path, readable]);
  return (
    <section aria-label="Files" className="grid gap-2">
      <h3 className="text-sm font-semibold">Files</h3>
      {files.isPending && <Loading label="Loading files" />}
      {files.isError && <ErrorState error={files.error} onRetry={() => void files.refetch()} />}
      {files.data && (
        <div className="grid gap-2 sm:grid-cols-[12rem_1fr]">
          <ul className="max-h-72 overflow-y-auto rounded-md border border-border text-[13px]">
            {files.data.map((f) => (
              <li key={f.path}>
                <button
                  type="button"
                  onClick={() => setPath(f.path)}
                  className={cn("flex w-full items-center gap-1.5 px-2 py-1 text-left hover:bg-muted", path === f.path && "bg-accent")}
                >
                  <FileText className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />
                  <span className="min-w-0 flex-1 truncate font-mono">{f.path}</span>
                  <span className="text-xs text-muted-foreground">{formatBytes(f.size)}</span>
                </button>
              </li>
            ))}
          </ul>
          <div className="min-h-32 overflow-auto rounded-md border border-border bg-muted">
            {!path && <p className="p-3 text-[13px] text-muted-foreground">Pick a file to read it.</p>}
            {path && (
              <a
                href={courseApi.submissionFileUrl(course.id, submission.id, path)}
                download
                className="float-right m-2 inline-flex items-center gap-1 text-xs text-link hover:underline"
              >
                <Download className="size-3.5" aria-hidden /> Download
              </a>
            )}
            {chosen && !readable && <p className="p-3 text-[13px] text-muted-foreground">Too large to show here ({formatBytes(chosen.size)}): download it.</p>}
            {path && text?.path === path && "body" in text && <pre className="max-h-96 p-3 font-mono text-xs whitespace-pre">{text.body}</pre>}
            {path && text?.path === path && "error" in text && (
              <p role="alert" className="p-3 text-[13px] text-destructive-text">
                {text.error}
              </p>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

/** Points per rubric row with comments, and feedback for the student. */
function ManualGrade({ course, assignment, submission: s }: { course: Course; assignment: Assignment; submission: Submission }) {
  const qc = useQueryClient();
  const rubric = assignment.rubric ?? [];
  const [rows, setRows] = useState(() =>
    rubric.map((r) => {
      const given = (s.rubric ?? []).find((g) => g.id === r.id);
      return { id: r.id, points: given?.points ?? 0, comment: given?.comment ?? "" };
    }),
  );
  const [feedback, setFeedback] = useState(s.feedback);
  const save = useMutation({
    mutationFn: () => courseApi.grade(course.id, s.id, { rubric: rows, feedback }),
    onSuccess: (updated) => {
      qc.setQueryData(courseKeys.submission(course.id, s.id), updated);
      void qc.invalidateQueries({ queryKey: courseKeys.submissions(course.id, assignment.id) });
      void qc.invalidateQueries({ queryKey: courseKeys.progress(course.id) });
      toast.success("Grade saved");
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} className="grid gap-3" aria-label="Grade by hand">
      <h3 className="text-sm font-semibold">Grade by hand</h3>
      {rubric.map((r, i) => (
        <div key={r.id} className="grid gap-1.5 sm:grid-cols-[1fr_6rem]">
          <span className="text-[13px]">
            {r.title} <span className="text-muted-foreground">(up to {points(r.points)})</span>
          </span>
          <Input
            type="number"
            min={0}
            max={r.points}
            step={0.5}
            aria-label={`Points for ${r.title}`}
            value={rows[i]?.points ?? 0}
            onChange={(e) => setRows(rows.map((row, k) => (k === i ? { ...row, points: Number(e.target.value) } : row)))}
          />
          <Input
            className="sm:col-span-2"
            aria-label={`Comment on ${r.title}`}
            placeholder="Comment (optional)"
            value={rows[i]?.comment ?? ""}
            onChange={(e) => setRows(rows.map((row, k) => (k === i ? { ...row, comment: e.target.value } : row)))}
          />
        </div>
      ))}
      <textarea
        aria-label="Feedback"
        rows={4}
        className={cn(inputClass, "h-auto py-2 text-[13px]")}
        placeholder="Feedback for the student"
        value={feedback}
        onChange={(e) => setFeedback(e.target.value)}
      />
      {save.isError && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {errorMessage(save.error)}
        </p>
      )}
      <div>
        <Button type="submit" variant="primary" disabled={save.isPending}>
          <Save /> Save grade
        </Button>
      </div>
    </form>
  );
}
