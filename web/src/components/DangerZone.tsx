import { Trash2 } from "lucide-react";
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogFooter } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { usePending } from "@/components/ui/use-pending";

interface DangerZoneProps {
  title: string;
  /** What goes, in words. */
  children: ReactNode;
  buttonLabel: string;
  /** The dialog's content, mounted only while open so that each opening starts blank. */
  dialog: (close: () => void) => ReactNode;
}

/** A red-bordered section whose button opens a dialog that deletes something for good. */
export function DangerZone({ title, children, buttonLabel, dialog }: DangerZoneProps) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <section aria-labelledby={id} className="rounded-lg border border-destructive-text/40 bg-panel p-5">
      <h2 id={id} className="text-base font-semibold">
        {title}
      </h2>
      <p className="mb-4 text-[13px] text-muted-foreground">{children}</p>
      <Button variant="destructive" onClick={() => setOpen(true)}>
        <Trash2 /> {buttonLabel}
      </Button>
      <Dialog open={open} onOpenChange={setOpen}>
        {open && dialog(() => setOpen(false))}
      </Dialog>
    </section>
  );
}

interface TypeToConfirmProps {
  title: string;
  description: string;
  /** The confirming field's label, e.g. "Team name". */
  label: string;
  /** Whether what was typed confirms. */
  matches: (typed: string) => boolean;
  submitLabel: string;
  /** Runs with what was typed; its error stays shown in the dialog. */
  action: (typed: string) => Promise<unknown>;
  onDone: () => void;
  onCancel: () => void;
  /** Further fields after the confirming one, e.g. a password; ready says whether they are filled in. */
  children?: ReactNode;
  ready?: boolean;
}

/** A dialog that deletes only once the person has typed the name of what goes. */
export function TypeToConfirm({ title, description, label, matches, submitLabel, action, onDone, onCancel, children, ready = true }: TypeToConfirmProps) {
  const [typed, setTyped] = useState("");
  const { pending, error, run } = usePending();
  const confirmed = matches(typed) && ready;
  function submit(e: FormEvent) {
    e.preventDefault();
    if (confirmed) void run(() => action(typed), onDone);
  }
  return (
    <DialogContent title={title} description={description}>
      <form onSubmit={submit} noValidate className="grid gap-3">
        <Field label={label} value={typed} autoComplete="off" spellCheck={false} onChange={(e) => setTyped(e.target.value)} />
        {children}
        {error && (
          <p role="alert" className="text-[13px] text-destructive-text">
            {error}
          </p>
        )}
        <DialogFooter>
          <Button type="button" variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" variant="destructive" disabled={!confirmed || pending}>
            {pending && <Spinner className="text-current" />}
            {submitLabel}
          </Button>
        </DialogFooter>
      </form>
    </DialogContent>
  );
}
