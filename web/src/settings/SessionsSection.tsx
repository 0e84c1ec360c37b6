import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Laptop, LogOut, Smartphone } from "lucide-react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Loading } from "@/components/ui/spinner";
import { api, errorMessage, type Session } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";

const sessionsKey = ["sessions"];

/** Where the person is logged in, and a way to end any of it. */
export function SessionsSection() {
  const sessions = useQuery({ queryKey: sessionsKey, queryFn: api.sessions });
  const qc = useQueryClient();
  const end = useMutation({
    mutationFn: (s: Session | null) => (s ? api.endSession(s.id) : api.endOtherSessions()),
    onSuccess: (_, s) => {
      void qc.invalidateQueries({ queryKey: sessionsKey });
      toast.success(s ? `Logged out ${s.browser} on ${s.device}` : "Logged out everywhere else");
    },
    onError: (err) => toast.error("Couldn't end the session", { description: errorMessage(err) }),
  });
  const others = sessions.data?.filter((s) => !s.current) ?? [];
  return (
    <section aria-labelledby="sessions-heading" className="rounded-lg border border-border bg-panel p-5">
      <div className="mb-1 flex items-center justify-between gap-2">
        <h2 id="sessions-heading" className="text-base font-semibold">
          Sessions
        </h2>
        {others.length > 0 && (
          <Button variant="outline" size="sm" disabled={end.isPending} onClick={() => end.mutate(null)}>
            <LogOut /> Log out all other sessions
          </Button>
        )}
      </div>
      <p className="mb-4 text-[13px] text-muted-foreground">
        Where your account is logged in. End any session you don't recognise; it is logged out at once.
      </p>
      {sessions.isPending && <Loading label="Loading sessions" />}
      {sessions.isError && <ErrorState error={sessions.error} onRetry={() => void sessions.refetch()} />}
      {sessions.data && (
        <ul aria-label="Your sessions" className="grid gap-2">
          {sessions.data.map((s) => (
            <li key={s.id} className="flex items-center gap-3 rounded-md border border-border px-3 py-2 text-[13px]">
              {/iOS|Android/.test(s.device) ? (
                <Smartphone className="size-4 shrink-0 text-muted-foreground" aria-hidden />
              ) : (
                <Laptop className="size-4 shrink-0 text-muted-foreground" aria-hidden />
              )}
              <div className="min-w-0 flex-1">
                <p className="font-medium">
                  {s.browser} on {s.device} {s.current && <Badge className="ml-1">This device</Badge>}
                </p>
                <p className="truncate text-xs text-muted-foreground" title={s.userAgent}>
                  {s.ip} · last active {s.current ? "now" : timeAgo(s.lastSeen)} · signed in {formatDate(s.createdAt)}
                </p>
              </div>
              {!s.current && (
                <Button
                  variant="ghost"
                  size="sm"
                  disabled={end.isPending}
                  onClick={() => end.mutate(s)}
                  aria-label={`Log out ${s.browser} on ${s.device}`}
                >
                  Log out
                </Button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
