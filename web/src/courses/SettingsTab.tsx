import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link2, RefreshCw, RotateCcw, Save } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { toast } from "sonner";
import { useMe } from "@/auth/session";
import { DangerZone, TypeToConfirm } from "@/components/DangerZone";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Field } from "@/components/ui/field";
import { Loading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { courseApi, courseKeys, joinLinkFor, type Course, type Passback } from "./api";

const sectionClass = "rounded-lg border border-border bg-panel p-5";

/** For teachers: the course's name, its join code and link, its LMS link, and deleting it (owner). */
export function SettingsTab({ course }: { course: Course }) {
  const me = useMe().data;
  return (
    <div className="grid gap-8">
      <Details course={course} />
      <JoinCode course={course} />
      <LmsPanel course={course} />
      {me?.id === course.ownerId && <DeleteCourse course={course} />}
    </div>
  );
}

function Details({ course }: { course: Course }) {
  const qc = useQueryClient();
  const [name, setName] = useState(course.name);
  const [description, setDescription] = useState(course.description);
  const save = useMutation({
    mutationFn: () => courseApi.update(course.id, { name: name.trim(), description: description.trim() }),
    onSuccess: (updated) => {
      qc.setQueryData(courseKeys.course(course.id), updated);
      void qc.invalidateQueries({ queryKey: courseKeys.list });
      toast.success("Course saved");
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) save.mutate();
  };
  return (
    <form onSubmit={submit} className={cn(sectionClass, "grid gap-4")} aria-labelledby="course-details">
      <h2 id="course-details" className="text-base font-semibold">
        Course
      </h2>
      <Field label="Name" value={name} onChange={(e) => setName(e.target.value)} required />
      <Field label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      {save.isError && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {errorMessage(save.error)}
        </p>
      )}
      <div>
        <Button type="submit" disabled={save.isPending || !name.trim()}>
          <Save /> Save
        </Button>
      </div>
    </form>
  );
}

function JoinCode({ course }: { course: Course }) {
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const code = course.joinCode ?? "";
  return (
    <section className={cn(sectionClass, "grid gap-3")} aria-labelledby="course-join">
      <div>
        <h2 id="course-join" className="text-base font-semibold">
          Join code
        </h2>
        <p className="text-[13px] text-muted-foreground">Students join with the code, or by opening the link while signed in.</p>
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <code className="rounded-md border border-border bg-muted px-3 py-1.5 font-mono text-base tracking-widest" data-testid="join-code">
          {code}
        </code>
        <CopyButton text={code} what="Join code" />
        <Button variant="ghost" size="sm" onClick={() => setConfirming(true)}>
          <RotateCcw /> New code
        </Button>
      </div>
      <div className="flex flex-wrap items-center gap-2">
        <Link2 className="size-4 text-muted-foreground" aria-hidden />
        <span className="min-w-0 flex-1 truncate font-mono text-[13px]" data-testid="join-link">
          {joinLinkFor(code)}
        </span>
        <CopyButton text={joinLinkFor(code)} what="Join link" />
      </div>
      <ConfirmDialog
        open={confirming}
        onOpenChange={setConfirming}
        title="Make a new join code?"
        description="The current code and link stop working at once. People already in the course stay."
        confirmLabel="New code"
        onConfirm={async () => {
          const joinCode = await courseApi.rotateJoinCode(course.id);
          qc.setQueryData(courseKeys.course(course.id), { ...course, joinCode });
          toast.success("New join code made");
        }}
      />
    </section>
  );
}

/** The course's LMS link (LTI 1.3): the platform, roster sync, and each score sent back. */
function LmsPanel({ course }: { course: Course }) {
  const qc = useQueryClient();
  const lti = useQuery({ queryKey: courseKeys.lti(course.id), queryFn: () => courseApi.lti(course.id), refetchInterval: 15_000 });
  const sync = useMutation({
    mutationFn: () => courseApi.rosterSync(course.id),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: courseKeys.lti(course.id) });
      void qc.invalidateQueries({ queryKey: courseKeys.members(course.id) });
      toast.success(`Roster synced: ${r.added} added, ${r.updated} updated, ${r.removed} removed`);
    },
    onError: (err) => toast.error("Couldn't sync the roster", { description: errorMessage(err) }),
  });
  return (
    <section className={cn(sectionClass, "grid gap-3")} aria-labelledby="course-lms" data-testid="lms-panel">
      <h2 id="course-lms" className="text-base font-semibold">
        Learning management system
      </h2>
      {lti.isPending && <Loading label="Loading the LMS link" />}
      {lti.isError && <ErrorState error={lti.error} onRetry={() => void lti.refetch()} title="Couldn't load the LMS link" />}
      {lti.data && !lti.data.linked && (
        <p className="text-[13px] text-muted-foreground">
          Not linked. Launch E-Code from a course in your LMS (Canvas, Moodle, Blackboard…) once an administrator has registered it under
          Settings → LMS platforms; the course links on the first launch.
        </p>
      )}
      {lti.data?.linked && (
        <>
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-[13px]">
            <dt className="text-muted-foreground">Platform</dt>
            <dd>{lti.data.platform?.name ?? "—"}</dd>
            <dt className="text-muted-foreground">LMS course</dt>
            <dd className="font-mono">{lti.data.contextId}</dd>
            <dt className="text-muted-foreground">Roster synced</dt>
            <dd>{lti.data.lastRosterSync ? <time title={formatDate(lti.data.lastRosterSync)}>{timeAgo(lti.data.lastRosterSync)}</time> : "never"}</dd>
          </dl>
          <div>
            <Button size="sm" onClick={() => sync.mutate()} disabled={sync.isPending}>
              <RefreshCw className={cn(sync.isPending && "animate-spin")} /> Sync roster now
            </Button>
          </div>
          <Passbacks course={course} passbacks={lti.data.passbacks ?? []} />
        </>
      )}
    </section>
  );
}

const passbackClass: Record<Passback["status"], string> = {
  pending: "",
  sent: "text-foreground",
  failed: "border-destructive/50 text-destructive-text",
};

function Passbacks({ course, passbacks }: { course: Course; passbacks: Passback[] }) {
  const qc = useQueryClient();
  const retry = useMutation({
    mutationFn: (submissionId: string) => courseApi.retryPassback(course.id, submissionId),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: courseKeys.lti(course.id) });
      toast.success("Sending the score again");
    },
    onError: (err) => toast.error("Couldn't retry", { description: errorMessage(err) }),
  });
  if (passbacks.length === 0) return <p className="text-[13px] text-muted-foreground">No scores sent to the LMS yet; each graded submission's score goes back on its own.</p>;
  return (
    <div className="overflow-x-auto rounded-md border border-border">
      <table className="w-full text-[13px]" aria-label="Scores sent to the LMS">
        <thead className="bg-muted text-left text-xs text-muted-foreground">
          <tr>
            <th className="px-3 py-2 font-medium">Student</th>
            <th className="px-3 py-2 font-medium">Status</th>
            <th className="px-3 py-2 font-medium">Attempts</th>
            <th className="px-3 py-2 font-medium">Detail</th>
            <th className="px-3 py-2" />
          </tr>
        </thead>
        <tbody className="divide-y divide-border">
          {passbacks.map((p) => (
            <tr key={p.submissionId}>
              <td className="px-3 py-2">{p.username}</td>
              <td className="px-3 py-2">
                <Badge className={passbackClass[p.status]}>{p.status}</Badge>
              </td>
              <td className="px-3 py-2 tabular-nums">{p.attempts}</td>
              <td className="px-3 py-2 text-muted-foreground">
                {p.error || (p.sentAt ? <time title={formatDate(p.sentAt)}>sent {timeAgo(p.sentAt)}</time> : "")}
              </td>
              <td className="px-3 py-2 text-right">
                {p.status === "failed" && (
                  <Button size="sm" variant="ghost" onClick={() => retry.mutate(p.submissionId)} disabled={retry.isPending}>
                    <RotateCcw /> Retry
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DeleteCourse({ course }: { course: Course }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  return (
    <DangerZone
      title="Danger zone"
      buttonLabel="Delete course"
      dialog={(close) => (
        <TypeToConfirm
          title={`Delete ${course.name}?`}
          description={`Type ${course.name} to confirm.`}
          label="Course name"
          matches={(typed) => typed.trim() === course.name}
          submitLabel="Delete course"
          action={() => courseApi.remove(course.id)}
          onDone={() => {
            void navigate("/courses", { replace: true });
            qc.removeQueries({ queryKey: courseKeys.course(course.id) });
            void qc.invalidateQueries({ queryKey: courseKeys.list });
            toast.success(`Deleted ${course.name}`);
          }}
          onCancel={close}
        />
      )}
    >
      Deleting the course removes its assignments, submissions and grades for everyone. Students keep their own projects. This cannot be
      undone.
    </DangerZone>
  );
}
