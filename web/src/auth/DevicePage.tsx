// The page `ecode login` sends its person to: find the waiting login by the
// code the terminal shows, check what asks, then approve or deny it for the
// signed-in account.
import { useMutation, useQuery } from "@tanstack/react-query";
import { CircleCheck, CircleX, Terminal } from "lucide-react";
import { useState, type FormEvent, type ReactNode } from "react";
import { useSearchParams } from "react-router";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Loading, Spinner } from "@/components/ui/spinner";
import { ApiError, api, errorMessage, type DeviceRequest } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { useMe } from "./session";

type Outcome = "approved" | "denied";

/** /device?code=XXXX-XXXX. The route asks the person to log in first, and brings them back with the code. */
export default function DevicePage() {
  const [params, setParams] = useSearchParams();
  const code = params.get("code")?.trim().toUpperCase() ?? "";
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const request = useQuery({
    queryKey: ["device-login", code],
    queryFn: () => api.deviceLogin(code),
    enabled: code !== "" && outcome === null,
    retry: false,
  });

  function lookUp(next: string) {
    if (next === code) void request.refetch();
    else setParams({ code: next }, { replace: true });
  }

  let body: ReactNode;
  if (outcome) body = <Done outcome={outcome} />;
  else if (!code) body = <CodeForm initial="" onSubmit={lookUp} />;
  else if (request.isError && isWrongCode(request.error))
    body = <CodeForm initial={code} error={errorMessage(request.error)} pending={request.isFetching} onSubmit={lookUp} />;
  else if (request.isError)
    body = <ErrorState title="Couldn't look up this code" error={request.error} onRetry={() => void request.refetch()} />;
  else if (request.data) body = <Approve request={request.data} onDecided={setOutcome} />;
  else body = <Loading label="Looking up the code" />;

  return (
    <AppShell>
      <title>Log in a device · E-Code</title>
      <div className="mx-auto max-w-md">{body}</div>
    </AppShell>
  );
}

/** A code that names no waiting login, or too many such codes: the person fixes what they typed. */
function isWrongCode(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 429);
}

function Card({ heading, children }: { heading: string; children: ReactNode }) {
  return (
    <div className="grid gap-4 rounded-lg border border-border bg-panel p-6">
      <div className="flex items-start gap-3">
        <div className="rounded-full border border-border bg-muted p-2.5">
          <Terminal className="size-5 text-muted-foreground" aria-hidden />
        </div>
        <h1 className="self-center text-base font-semibold">{heading}</h1>
      </div>
      {children}
    </div>
  );
}

function CodeForm({
  initial,
  error,
  pending = false,
  onSubmit,
}: {
  initial: string;
  error?: string;
  pending?: boolean;
  onSubmit: (code: string) => void;
}) {
  const [value, setValue] = useState(initial);
  const [empty, setEmpty] = useState(false);

  function submit(e: FormEvent) {
    e.preventDefault();
    const code = value.trim().toUpperCase();
    setEmpty(code === "");
    if (code) onSubmit(code);
  }

  return (
    <Card heading="Log in a device">
      <form className="grid gap-4" onSubmit={submit} noValidate>
        <Field
          label="Code"
          name="code"
          autoFocus
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          placeholder="XXXX-XXXX"
          className="font-mono tracking-widest uppercase"
          value={value}
          error={empty ? "Enter the code your terminal shows." : error}
          hint={
            <>
              The code <code className="font-mono">ecode login</code> printed in your terminal.
            </>
          }
          onChange={(e) => setValue(e.target.value)}
        />
        <div className="flex justify-end">
          <Button type="submit" variant="primary" disabled={pending}>
            {pending && <Spinner className="text-current" />}
            Continue
          </Button>
        </div>
      </form>
    </Card>
  );
}

function Approve({ request, onDecided }: { request: DeviceRequest; onDecided: (outcome: Outcome) => void }) {
  const me = useMe();
  const decide = useMutation({
    mutationFn: (approve: boolean) => api.decideDeviceLogin(request.userCode, approve),
    onSuccess: (_, approve) => onDecided(approve ? "approved" : "denied"),
  });
  const deciding = decide.isPending ? decide.variables : null;

  return (
    <Card heading={`Approve ${request.clientName} to use your account?`}>
      <div className="grid gap-2 text-[13px] text-muted-foreground">
        <p>
          It gets an API token that acts as <strong className="text-foreground">{me.data?.username}</strong>: your
          projects, teams and settings. The token is listed under API tokens in Settings, where you can revoke it.
        </p>
        <p>
          Approve only if you started this login yourself and your terminal shows the code{" "}
          <code className="font-mono text-foreground">{request.userCode}</code>.
        </p>
        <p className="text-xs">
          The code expires <time title={formatDate(request.expiresAt)}>{timeAgo(request.expiresAt)}</time>.
        </p>
      </div>
      {decide.error && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {errorMessage(decide.error)}
        </p>
      )}
      <div className="flex justify-end gap-2">
        <Button variant="secondary" disabled={decide.isPending} onClick={() => decide.mutate(false)}>
          {deciding === false && <Spinner className="text-current" />}
          Deny
        </Button>
        <Button variant="primary" disabled={decide.isPending} onClick={() => decide.mutate(true)}>
          {deciding === true && <Spinner className="text-current" />}
          Approve
        </Button>
      </div>
    </Card>
  );
}

function Done({ outcome }: { outcome: Outcome }) {
  const approved = outcome === "approved";
  return (
    <div role="status">
      <EmptyState icon={approved ? CircleCheck : CircleX} title={approved ? "Device approved" : "Login denied"}>
        {approved
          ? "You can close this tab and return to the terminal."
          : "The terminal will say the login was denied. You can close this tab."}
      </EmptyState>
    </div>
  );
}
