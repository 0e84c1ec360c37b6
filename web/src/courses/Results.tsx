import { CircleCheck, CircleX, EyeOff, LoaderCircle } from "lucide-react";
import { Badge } from "@/components/ui/badge";
import { Spinner } from "@/components/ui/spinner";
import { formatDate, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { points, stateLabels, type GradeResult, type RubricItem, type Submission, type WorkState } from "./api";

/** Each test's outcome: hidden tests marked, their message generic; output only where the server sent it (staff). */
export function ResultView({ result, label = "Test results" }: { result: GradeResult; label?: string }) {
  const tests = result.tests ?? [];
  const passed = tests.filter((t) => t.passed).length;
  return (
    <section aria-label={label} className="grid gap-2" data-testid="grade-result">
      <p className="text-[13px] text-muted-foreground">
        {passed} of {tests.length} test{tests.length === 1 ? "" : "s"} passed · {points(result.points)} / {points(result.maxPoints)} points
      </p>
      {result.reason && (
        <p role="alert" className="rounded-md border border-warning/50 bg-warning/10 px-3 py-2 text-[13px]">
          {result.reason}
        </p>
      )}
      {tests.length > 0 && (
        <ul className="divide-y divide-border rounded-md border border-border">
          {tests.map((t, i) => (
            <li key={i} className="grid gap-1 px-3 py-2 text-[13px]" data-testid="test-row">
              <div className="flex items-center gap-2">
                {t.passed ? (
                  <CircleCheck className="size-4 shrink-0 text-run" aria-label="Passed" />
                ) : (
                  <CircleX className="size-4 shrink-0 text-destructive-text" aria-label="Failed" />
                )}
                <span className="min-w-0 flex-1 truncate font-mono">
                  {t.hidden ? (
                    <>
                      <EyeOff className="mr-1 inline size-3.5 text-muted-foreground" aria-hidden />
                      Hidden test{t.name ? ` ${t.name}` : ""}
                    </>
                  ) : (
                    t.name
                  )}
                </span>
                <span className="shrink-0 text-muted-foreground">
                  {points(t.points)}/{points(t.maxPoints)}
                </span>
              </div>
              {t.message && <p className={cn("pl-6 whitespace-pre-wrap", t.passed ? "text-muted-foreground" : "text-foreground")}>{t.message}</p>}
              {t.output && (
                <details className="pl-6">
                  <summary className="cursor-pointer text-xs text-muted-foreground">Output</summary>
                  <pre className="mt-1 max-h-64 overflow-auto rounded bg-muted p-2 font-mono text-xs whitespace-pre-wrap">{t.output}</pre>
                </details>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** "8.5 / 10", "Grading…", "Failed": where a submission stands, in one line. */
export function ScoreBadge({ submission: s }: { submission: Submission }) {
  if (s.status === "queued" || s.status === "grading") {
    return (
      <Badge data-testid="submission-status">
        <LoaderCircle className="animate-spin" aria-hidden /> {s.status === "queued" ? "Queued" : "Grading"}…
      </Badge>
    );
  }
  if (s.status === "failed") {
    return (
      <Badge className="border-destructive/50 text-destructive-text" data-testid="submission-status" title={s.reason}>
        Grading failed
      </Badge>
    );
  }
  return (
    <Badge className="text-foreground" data-testid="submission-score">
      {s.score === null ? "—" : points(s.score)} / {points(s.maxScore)}
    </Badge>
  );
}

export function LateBadge({ submission: s }: { submission: Pick<Submission, "late" | "daysLate" | "penaltyPercent"> }) {
  if (!s.late) return null;
  return (
    <Badge className="border-warning/50 text-warning" title={s.penaltyPercent ? `${points(s.penaltyPercent)} % off` : undefined}>
      Late{s.daysLate > 0 ? ` ${s.daysLate} d` : ""}
      {s.penaltyPercent > 0 ? ` · −${points(s.penaltyPercent)} %` : ""}
    </Badge>
  );
}

export function StateBadge({ state }: { state: WorkState }) {
  return <Badge className={cn(state === "graded" && "text-foreground")}>{stateLabels[state]}</Badge>;
}

/** A submission as its student reads it: score, late penalty, rubric comments, feedback and each test. */
export function SubmissionSummary({ submission: s, rubric = [] }: { submission: Submission; rubric?: RubricItem[] }) {
  return (
    <div className="grid gap-3" data-testid="submission-summary">
      <div className="flex flex-wrap items-center gap-2 text-[13px]">
        <span className="font-medium">Submission {s.number}</span>
        <ScoreBadge submission={s} />
        <LateBadge submission={s} />
        <time className="text-muted-foreground" title={formatDate(s.submittedAt)}>
          {timeAgo(s.submittedAt)}
        </time>
      </div>
      {(s.status === "queued" || s.status === "grading") && (
        <p className="flex items-center gap-2 text-[13px] text-muted-foreground" role="status">
          <Spinner /> Your tests are running in a fresh sandbox; the score shows here when they finish.
        </p>
      )}
      {s.status === "failed" && s.reason && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {s.reason}
        </p>
      )}
      {s.feedback && (
        <div className="rounded-md border border-border bg-panel px-3 py-2 text-[13px]">
          <p className="mb-1 text-xs font-medium text-muted-foreground">Feedback</p>
          <p className="whitespace-pre-wrap">{s.feedback}</p>
        </div>
      )}
      {(s.rubric ?? []).some((r) => r.comment) && (
        <ul className="grid gap-1 text-[13px]">
          {(s.rubric ?? []).map((r) => {
            const row = rubric.find((x) => x.id === r.id);
            return (
              <li key={r.id}>
                {row ? `${row.title}: ` : ""}
                {points(r.points)}
                {row ? ` / ${points(row.points)}` : ""} pts{r.comment ? ` · ${r.comment}` : ""}
              </li>
            );
          })}
        </ul>
      )}
      {s.result && <ResultView result={s.result} />}
    </div>
  );
}
