import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Pencil } from "lucide-react";
import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { meQuery } from "@/auth/session";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { api, ApiError, errorMessage, type User } from "@/lib/api";
import { formatDate } from "@/lib/format";

/** The account's names: shown, and edited in place. */
export function AccountSection({ user }: { user: User }) {
  const [editing, setEditing] = useState(false);
  return (
    <section aria-labelledby="account-heading" className="rounded-lg border border-border bg-panel p-5">
      <div className="mb-3 flex items-center justify-between">
        <h2 id="account-heading" className="text-base font-semibold">
          Account
        </h2>
        {!editing && (
          <Button variant="ghost" size="sm" onClick={() => setEditing(true)}>
            <Pencil /> Edit
          </Button>
        )}
      </div>
      {editing ? (
        <AccountForm user={user} onDone={() => setEditing(false)} />
      ) : (
        <dl className="grid grid-cols-[8rem_1fr] gap-y-2 text-[13px]">
          <dt className="text-muted-foreground">Username</dt>
          <dd>{user.username}</dd>
          <dt className="text-muted-foreground">Email</dt>
          <dd>{user.email}</dd>
          <dt className="text-muted-foreground">Member since</dt>
          <dd>{formatDate(user.createdAt)}</dd>
        </dl>
      )}
      <PasswordForm user={user} />
    </section>
  );
}

function AccountForm({ user, onDone }: { user: User; onDone: () => void }) {
  const qc = useQueryClient();
  const [username, setUsername] = useState(user.username);
  const [email, setEmail] = useState(user.email);
  const [password, setPassword] = useState("");
  const emailChanged = email.trim().toLowerCase() !== user.email;
  const save = useMutation({
    mutationFn: () =>
      api.updateMe({
        username: username.trim() !== user.username ? username.trim() : undefined,
        email: emailChanged ? email.trim() : undefined,
        currentPassword: emailChanged ? password : undefined,
      }),
    onSuccess: (next) => {
      qc.setQueryData(meQuery.queryKey, next);
      void qc.invalidateQueries({ queryKey: ["projects"] });
      toast.success("Account updated");
      onDone();
    },
  });
  const err = save.error instanceof ApiError ? save.error : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  return (
    <form onSubmit={submit} noValidate className="grid max-w-md gap-3">
      <Field
        label="Username"
        value={username}
        autoComplete="username"
        onChange={(e) => setUsername(e.target.value)}
        error={err?.code.startsWith("username") || err?.code === "invalid_username" ? err.message : null}
        hint="Your projects' addresses (/@username/project) follow it."
      />
      <Field
        label="Email"
        type="email"
        value={email}
        autoComplete="email"
        onChange={(e) => setEmail(e.target.value)}
        error={err?.code.startsWith("email") || err?.code === "invalid_email" ? err.message : null}
      />
      {emailChanged && user.hasPassword && (
        <Field
          label="Current password"
          type="password"
          value={password}
          autoComplete="current-password"
          onChange={(e) => setPassword(e.target.value)}
          error={err?.code === "wrong_password" ? err.message : null}
          hint="Needed to change the email your account is recovered with."
        />
      )}
      {save.isError && !err?.code.match(/^(username|email|invalid_username|invalid_email|wrong_password)/) && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {errorMessage(save.error)}
        </p>
      )}
      <div className="flex gap-2">
        <Button type="submit" variant="primary" disabled={save.isPending}>
          {save.isPending && <Spinner className="text-current" />}
          Save
        </Button>
        <Button type="button" variant="ghost" onClick={onDone}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

/** Change the password, or set one on an account made through a provider. */
function PasswordForm({ user }: { user: User }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const change = useMutation({
    mutationFn: () => api.changePassword(current, next),
    onSuccess: () => {
      setOpen(false);
      setCurrent("");
      setNext("");
      setAgain("");
      void qc.invalidateQueries({ queryKey: meQuery.queryKey });
      void qc.invalidateQueries({ queryKey: ["sessions"] });
      toast.success(user.hasPassword ? "Password changed" : "Password set", {
        description: "Every other session was logged out.",
      });
    },
  });
  const err = change.error instanceof ApiError ? change.error : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    if (next !== again) return setMismatch(true);
    change.mutate();
  }
  if (!open) {
    return (
      <Button variant="outline" size="sm" className="mt-4" onClick={() => setOpen(true)}>
        {user.hasPassword ? "Change password" : "Set a password"}
      </Button>
    );
  }
  return (
    <form onSubmit={submit} noValidate className="mt-4 grid max-w-md gap-3 border-t border-border pt-4">
      {user.hasPassword && (
        <Field
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          error={err?.code === "wrong_password" ? err.message : null}
        />
      )}
      <Field
        label="New password"
        type="password"
        autoComplete="new-password"
        value={next}
        onChange={(e) => setNext(e.target.value)}
        hint="At least 8 characters. Changing it logs you out everywhere else."
        error={err && err.code !== "wrong_password" ? err.message : null}
      />
      <Field
        label="New password again"
        type="password"
        autoComplete="new-password"
        value={again}
        onChange={(e) => {
          setAgain(e.target.value);
          setMismatch(false);
        }}
        error={mismatch ? "The two passwords differ." : null}
      />
      <div className="flex gap-2">
        <Button type="submit" variant="primary" disabled={change.isPending}>
          {change.isPending && <Spinner className="text-current" />}
          {user.hasPassword ? "Change password" : "Set password"}
        </Button>
        <Button type="button" variant="ghost" onClick={() => setOpen(false)}>
          Cancel
        </Button>
      </div>
    </form>
  );
}
