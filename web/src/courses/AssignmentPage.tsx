import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ExternalLink, EyeOff, FolderOpen, Play, Trash2 } from "lucide-react";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { NotFoundPage } from "@/components/NotFoundPage";
import { Badge } from "@/components/ui/badge";
import { Button, buttonVariants } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Loading } from "@/components/ui/spinner";
import { ApiError, errorMessage } from "@/lib/api";
import { formatDate } from "@/lib/format";
import { assignmentPathFor, courseApi, courseKeys, coursePathFor, isStaff, points, projectUrl, type Assignment, type AssignmentInput, type Course } from "./api";
import { AssignmentForm, draftOf, newDraft } from "./AssignmentForm";
import { CourseGate } from "./CoursePage";
import { Markdown } from "./Markdown";
import { StateBadge } from "./Results";
import { CheckAndSubmit, MySubmissions, StarterCheck } from "./StudentWork";
import { Submissions } from "./Submissions";

/** /courses/:id/assignments/:aid (new: the creation form). */
export default function AssignmentPage() {
  const { id = "", aid = "" } = useParams();
  return (
    <CourseGate id={id}>
      {(course) => (
        <>
          <p className="mb-1 text-[13px] text-muted-foreground">
            <Link to="/courses" className="hover:underline">
              Courses
            </Link>{" "}
            /{" "}
            <Link to={coursePathFor(course.id)} className="hover:underline">
              {course.name}
            </Link>
          </p>
          {aid === "new" ? <NewAssignment course={course} /> : <ExistingAssignment key={aid} course={course} aid={aid} />}
        </>
      )}
    </CourseGate>
  );
}

function NewAssignment({ course }: { course: Course }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: (input: AssignmentInput) => courseApi.createAssignment(course.id, input),
    onSuccess: (a) => {
      void qc.invalidateQueries({ queryKey: courseKeys.assignments(course.id) });
      qc.setQueryData(courseKeys.assignment(course.id, a.id), a);
      toast.success(`Created ${a.title}`);
      navigate(assignmentPathFor(course.id, a.id), { replace: true });
    },
  });
  if (course.role !== "teacher") return <ErrorState title="Only teachers create assignments" error={new Error("Ask a teacher of this course.")} />;
  return (
    <>
      <title>{`New assignment · ${course.name} · E-Code`}</title>
      <h1 className="mb-6 text-xl font-semibold">New assignment</h1>
      <AssignmentForm
        initial={newDraft()}
        creating
        readOnly={false}
        saving={create.isPending}
        error={create.isError ? errorMessage(create.error) : null}
        onSave={(input) => create.mutate(input)}
      />
    </>
  );
}

function ExistingAssignment({ course, aid }: { course: Course; aid: string }) {
  const assignment = useQuery({ queryKey: courseKeys.assignment(course.id, aid), queryFn: () => courseApi.assignment(course.id, aid) });
  if (assignment.isPending) return <Loading label="Loading the assignment" />;
  if (assignment.isError) {
    if (assignment.error instanceof ApiError && assignment.error.isNotFound) {
      return <NotFoundPage title="Assignment not found" message="It was deleted, or it isn't published yet." />;
    }
    return <ErrorState title="Couldn't load the assignment" error={assignment.error} onRetry={() => void assignment.refetch()} />;
  }
  const a = assignment.data;
  return (
    <>
      <title>{`${a.title} · ${course.name} · E-Code`}</title>
      <div className="mb-6 flex flex-wrap items-center gap-2">
        <h1 className="text-xl font-semibold">{a.title}</h1>
        {isStaff(course.role) && !a.published && <Badge>Draft</Badge>}
        {a.mine && <StateBadge state={a.mine.state} />}
        <span className="text-[13px] text-muted-foreground">
          {points(a.maxScore)} pts
          {a.dueAt !== null && ` · due ${formatDate(a.dueAt)}`}
        </span>
      </div>
      {isStaff(course.role) ? <StaffView course={course} assignment={a} /> : <StudentView course={course} assignment={a} />}
    </>
  );
}

function StaffView({ course, assignment: a }: { course: Course; assignment: Assignment }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const teacher = course.role === "teacher";
  const [deleting, setDeleting] = useState(false);
  const starter = useQuery({ queryKey: ["projects", "by-id", a.starterProjectId], queryFn: () => courseApi.project(a.starterProjectId), enabled: !!a.starterProjectId });
  const save = useMutation({
    mutationFn: (input: AssignmentInput) => courseApi.updateAssignment(course.id, a.id, input),
    onSuccess: (updated) => {
      qc.setQueryData(courseKeys.assignment(course.id, a.id), updated);
      void qc.invalidateQueries({ queryKey: courseKeys.assignments(course.id) });
      toast.success("Assignment saved");
    },
  });
  return (
    <div className="grid gap-8">
      <div className="flex flex-wrap gap-2">
        {starter.data && (
          <Link to={projectUrl(starter.data)} className={buttonVariants({ variant: "secondary" })} data-testid="open-starter">
            <FolderOpen /> Open starter project
          </Link>
        )}
        {starter.isError && <span className="text-[13px] text-muted-foreground">The starter project can't be opened: {errorMessage(starter.error)}</span>}
      </div>
      <AssignmentForm
        key={a.updatedAt}
        initial={draftOf(a)}
        creating={false}
        readOnly={!teacher}
        saving={save.isPending}
        error={save.isError ? errorMessage(save.error) : null}
        onSave={(input) => save.mutate(input)}
        extra={
          <Button variant="ghost" className="ml-auto text-destructive-text" onClick={() => setDeleting(true)}>
            <Trash2 /> Delete assignment
          </Button>
        }
      />
      {teacher && (
        <section aria-labelledby="try-heading" className="grid gap-2">
          <h2 id="try-heading" className="text-base font-semibold">
            Try the visible tests on the starter
          </h2>
          <StarterCheck courseId={course.id} assignment={a} />
        </section>
      )}
      <Submissions course={course} assignment={a} />
      <ConfirmDialog
        open={deleting}
        onOpenChange={setDeleting}
        destructive
        title={`Delete ${a.title}?`}
        description="Its submissions and grades go with it. Students keep their own projects."
        confirmLabel="Delete assignment"
        onConfirm={async () => {
          await courseApi.removeAssignment(course.id, a.id);
          void qc.invalidateQueries({ queryKey: courseKeys.assignments(course.id) });
          navigate(coursePathFor(course.id), { replace: true });
        }}
      />
    </div>
  );
}

function StudentView({ course, assignment: a }: { course: Course; assignment: Assignment }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const start = useMutation({
    mutationFn: () => courseApi.start(course.id, a.id),
    onSuccess: (project) => {
      void qc.invalidateQueries({ queryKey: courseKeys.assignment(course.id, a.id) });
      void qc.invalidateQueries({ queryKey: courseKeys.assignments(course.id) });
      navigate(`${projectUrl(project)}?pane=assignment`);
    },
  });
  const started = Boolean(a.mine?.projectId);
  return (
    <div className="grid gap-8">
      <section aria-label="Instructions" className="rounded-lg border border-border bg-panel p-5">
        <Markdown source={a.instructions} />
        {(a.hiddenTests ?? 0) > 0 && (
          <p className="mt-4 flex items-center gap-1.5 text-xs text-muted-foreground">
            <EyeOff className="size-3.5" aria-hidden /> {a.hiddenTests === 1 ? "1 hidden test runs" : `${a.hiddenTests} hidden tests run`} when you submit.
          </p>
        )}
      </section>
      <div className="flex flex-wrap items-center gap-2">
        <Button variant="primary" onClick={() => start.mutate()} disabled={start.isPending}>
          {started ? <ExternalLink /> : <Play />} {started ? "Open my project" : "Start"}
        </Button>
        {!started && <span className="text-[13px] text-muted-foreground">Makes your own copy of the starter project.</span>}
        {start.isError && (
          <p role="alert" className="basis-full text-[13px] text-destructive-text">
            {errorMessage(start.error)}
          </p>
        )}
      </div>
      {started && (
        <section aria-labelledby="work-heading" className="grid gap-3">
          <h2 id="work-heading" className="text-base font-semibold">
            Check and submit
          </h2>
          <CheckAndSubmit courseId={course.id} assignment={a} />
        </section>
      )}
      <MySubmissions courseId={course.id} assignment={a} />
    </div>
  );
}
