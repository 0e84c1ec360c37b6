import { useMutation, useQuery } from "@tanstack/react-query";
import { ClipboardList, Link2 } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { useParams } from "react-router";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Loading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { ltiApi, ltiKeys } from "./api";

/** /lti/deep-link/:token: the LMS asked for content; the teacher picks assignments and the answer is posted back to the LMS. */
export default function DeepLinkPage() {
  const { token = "" } = useParams();
  const request = useQuery({ queryKey: ltiKeys.deepLink(token), queryFn: () => ltiApi.deepLink(token), retry: false });
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const form = useRef<HTMLFormElement>(null);
  const [answer, setAnswer] = useState<{ returnUrl: string; jwt: string } | null>(null);
  const send = useMutation({
    mutationFn: () => ltiApi.answerDeepLink(token, [...picked]),
    onSuccess: setAnswer,
  });
  // The LMS takes the answer as a form post (field JWT) to its return URL: posted as soon as the form is in the page.
  useEffect(() => {
    if (answer) form.current?.submit();
  }, [answer]);
  const toggle = (id: string, on: boolean) =>
    setPicked((prev) => {
      const next = new Set(prev);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  return (
    <AppShell>
      <title>Add to your LMS · E-Code</title>
      {request.isPending && <Loading label="Loading" />}
      {request.isError && <ErrorState title="This link can't be used" error={request.error} />}
      {request.data && (
        <div className="grid gap-5">
          <div>
            <h1 className="text-xl font-semibold">Add assignments to your LMS course</h1>
            <p className="text-[13px] text-muted-foreground">
              From <span className="text-foreground">{request.data.course.name}</span>. Each one becomes a link in the LMS; students who
              open it land on the assignment, and their scores go back to the LMS gradebook.
            </p>
          </div>
          {request.data.assignments.length === 0 ? (
            <EmptyState icon={ClipboardList} title="No assignments to add" className="rounded-lg border border-dashed border-border py-12">
              Create and publish assignments in the course first, then add them from your LMS again.
            </EmptyState>
          ) : (
            <fieldset className="grid gap-1 rounded-lg border border-border bg-panel p-4">
              <legend className="px-1 text-[13px] font-medium">Assignments</legend>
              {request.data.assignments.map((a) => (
                <label key={a.id} className="flex items-center gap-2 rounded px-1 py-1 text-sm hover:bg-muted">
                  <input type="checkbox" checked={picked.has(a.id)} onChange={(e) => toggle(a.id, e.target.checked)} />
                  {a.title}
                </label>
              ))}
            </fieldset>
          )}
          {send.isError && (
            <p role="alert" className="text-[13px] text-destructive-text">
              {errorMessage(send.error)}
            </p>
          )}
          <div>
            <Button variant="primary" onClick={() => send.mutate()} disabled={picked.size === 0 || send.isPending || answer !== null}>
              <Link2 /> {answer ? "Returning to your LMS…" : "Add to course"}
            </Button>
          </div>
          {answer && (
            <form ref={form} method="POST" action={answer.returnUrl} className="text-[13px] text-muted-foreground">
              <input type="hidden" name="JWT" value={answer.jwt} />
              Taking you back to your LMS. Nothing happening?{" "}
              <Button type="submit" variant="link">
                Continue to your LMS
              </Button>
            </form>
          )}
        </div>
      )}
    </AppShell>
  );
}
