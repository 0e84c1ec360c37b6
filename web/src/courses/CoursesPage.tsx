import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { GraduationCap, LogIn, Plus } from "lucide-react";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { toast } from "sonner";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Loading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { courseApi, courseKeys, coursePathFor, roleLabels, type Course } from "./api";

/** /courses: the courses the person teaches, assists or takes; create one, or join one by its code. */
export default function CoursesPage() {
  const courses = useQuery({ queryKey: courseKeys.list, queryFn: courseApi.courses });
  const [creating, setCreating] = useState(false);
  return (
    <AppShell>
      <title>Courses · E-Code</title>
      <div className="mb-6 flex flex-wrap items-center justify-between gap-4">
        <h1 className="text-xl font-semibold">Courses</h1>
        <Button variant="primary" onClick={() => setCreating(true)}>
          <Plus /> New course
        </Button>
      </div>
      <JoinByCode />
      {courses.isPending && <Loading label="Loading courses" />}
      {courses.isError && <ErrorState error={courses.error} onRetry={() => void courses.refetch()} />}
      {courses.data?.length === 0 && (
        <EmptyState icon={GraduationCap} title="No courses yet" className="rounded-lg border border-dashed border-border py-16">
          Create a course to hand out assignments, or enter the join code your teacher gave you.
        </EmptyState>
      )}
      {courses.data && courses.data.length > 0 && (
        <ul className="grid gap-3 sm:grid-cols-2" aria-label="Your courses">
          {courses.data.map((c) => (
            <CourseCard key={c.id} course={c} />
          ))}
        </ul>
      )}
      <NewCourseDialog open={creating} onOpenChange={setCreating} />
    </AppShell>
  );
}

function CourseCard({ course }: { course: Course }) {
  return (
    <li>
      <Link
        to={coursePathFor(course.id)}
        className="grid h-full gap-2 rounded-lg border border-border bg-panel p-4 transition-colors hover:border-primary/60 focus-visible:outline-2 focus-visible:outline-ring"
      >
        <div className="flex items-start justify-between gap-2">
          <h2 className="truncate text-sm font-semibold">{course.name}</h2>
          <Badge>{roleLabels[course.role]}</Badge>
        </div>
        {course.description && <p className="line-clamp-2 text-[13px] text-muted-foreground">{course.description}</p>}
        <p className="text-xs text-muted-foreground">
          {course.assignmentCount} assignment{course.assignmentCount === 1 ? "" : "s"} · {course.studentCount} student
          {course.studentCount === 1 ? "" : "s"}
          {course.lti && " · linked to an LMS"}
        </p>
      </Link>
    </li>
  );
}

/** Joins a course by the 8-character code a teacher handed out. */
function JoinByCode() {
  const [code, setCode] = useState("");
  const join = useJoin();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (code.trim()) join.mutate(code.trim());
  };
  return (
    <form onSubmit={submit} className="mb-6 flex flex-wrap items-end gap-2 rounded-lg border border-border bg-panel p-4">
      <div className="grid min-w-48 flex-1 gap-1.5">
        <Label htmlFor="join-code">Join a course</Label>
        <Input
          id="join-code"
          placeholder="Join code, e.g. K7QM2XPA"
          autoComplete="off"
          spellCheck={false}
          className="font-mono uppercase"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          aria-invalid={join.isError || undefined}
          aria-describedby={join.isError ? "join-code-error" : undefined}
        />
      </div>
      <Button type="submit" disabled={!code.trim() || join.isPending}>
        <LogIn /> Join
      </Button>
      {join.isError && (
        <p id="join-code-error" role="alert" className="basis-full text-xs text-destructive-text">
          {errorMessage(join.error)}
        </p>
      )}
    </form>
  );
}

/** Joining by code, then on to the course. */
export function useJoin() {
  const qc = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: (code: string) => courseApi.join(code),
    onSuccess: (course) => {
      void qc.invalidateQueries({ queryKey: courseKeys.list });
      toast.success(`You joined ${course.name}`);
      navigate(coursePathFor(course.id));
    },
  });
}

function NewCourseDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const qc = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: () => courseApi.create(name.trim(), description.trim()),
    onSuccess: (course) => {
      void qc.invalidateQueries({ queryKey: courseKeys.list });
      onOpenChange(false);
      navigate(coursePathFor(course.id));
    },
  });
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent title="New course" description="You become its teacher. Students join with a code or link you share.">
        <form
          className="grid gap-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) create.mutate();
          }}
        >
          <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Intro to Programming" autoFocus required />
          <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} placeholder="Optional" />
          {create.isError && (
            <p role="alert" className="text-[13px] text-destructive-text">
              {errorMessage(create.error)}
            </p>
          )}
          <div className="flex justify-end gap-2">
            <Button variant="ghost" onClick={() => onOpenChange(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="primary" disabled={!name.trim() || create.isPending}>
              Create course
            </Button>
          </div>
        </form>
      </DialogContent>
    </Dialog>
  );
}
