import { useQueryClient } from "@tanstack/react-query";
import { Trash2 } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogFooter } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { usePending } from "@/components/ui/use-pending";
import { api, type User } from "@/lib/api";

/** Deleting the account: its projects go with it, after the person confirms. */
export function DeleteAccountSection({ user }: { user: User }) {
  const [open, setOpen] = useState(false);
  return (
    <section aria-labelledby="delete-heading" className="rounded-lg border border-destructive-text/40 bg-panel p-5">
      <h2 id="delete-heading" className="text-base font-semibold">
        Delete account
      </h2>
      <p className="mb-4 text-[13px] text-muted-foreground">
        Deletes your account, every project you own with its files and history, your tokens and keys. This cannot be
        undone.
      </p>
      <Button variant="destructive" onClick={() => setOpen(true)}>
        <Trash2 /> Delete my account
      </Button>
      <Dialog open={open} onOpenChange={setOpen}>
        {open && <DeleteForm user={user} onCancel={() => setOpen(false)} />}
      </Dialog>
    </section>
  );
}

function DeleteForm({ user, onCancel }: { user: User; onCancel: () => void }) {
  const [confirm, setConfirm] = useState("");
  const [password, setPassword] = useState("");
  const { pending, error, run } = usePending();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const ready = confirm.trim().toLowerCase() === user.username && (!user.hasPassword || password !== "");
  function submit(e: FormEvent) {
    e.preventDefault();
    void run(
      () => api.deleteAccount(confirm, password),
      () => {
        qc.clear();
        navigate("/login", { replace: true });
      },
    );
  }
  return (
    <DialogContent title="Delete your account?" description={`Type ${user.username} to confirm. Your projects are deleted with it.`}>
      <form onSubmit={submit} noValidate className="grid gap-3">
        <Field label="Username" value={confirm} autoComplete="off" onChange={(e) => setConfirm(e.target.value)} />
        {user.hasPassword && (
          <Field
            label="Password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        )}
        {error && (
          <p role="alert" className="text-[13px] text-destructive-text">
            {error}
          </p>
        )}
        <DialogFooter>
          <Button type="button" variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" variant="destructive" disabled={!ready || pending}>
            {pending && <Spinner className="text-current" />}
            Delete account
          </Button>
        </DialogFooter>
      </form>
    </DialogContent>
  );
}
