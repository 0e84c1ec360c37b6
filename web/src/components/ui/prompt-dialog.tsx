import { useState, type FormEvent, type ReactNode } from "react";
import { Button } from "./button";
import { Dialog, DialogContent, DialogFooter } from "./dialog";
import { Field } from "./field";
import { Spinner } from "./spinner";
import { usePending } from "./use-pending";

interface PromptDialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description?: ReactNode;
  label: string;
  initialValue?: string;
  placeholder?: string;
  submitLabel: string;
  /** Returns an error message for invalid input, or null. */
  validate?: (value: string) => string | null;
  /** Performs the action; the dialog stays open showing the error if it throws. */
  onSubmit: (value: string) => Promise<unknown> | void;
}

/** A dialog asking for one line of text: a name, a path. */
export function PromptDialog(props: PromptDialogProps) {
  return (
    <Dialog open={props.open} onOpenChange={props.onOpenChange}>
      {props.open && <PromptForm {...props} />}
    </Dialog>
  );
}

function PromptForm({
  onOpenChange,
  title,
  description,
  label,
  initialValue = "",
  placeholder,
  submitLabel,
  validate,
  onSubmit,
}: PromptDialogProps) {
  const [value, setValue] = useState(initialValue);
  const { pending, error, setError, run } = usePending();

  function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = value.trim();
    const invalid = trimmed === "" ? `${label} can't be empty.` : (validate?.(trimmed) ?? null);
    if (invalid) setError(invalid);
    else void run(() => onSubmit(trimmed), () => onOpenChange(false));
  }

  return (
    <DialogContent title={title} description={description}>
      <form onSubmit={submit} className="grid gap-4" noValidate>
        <Field
          label={label}
          value={value}
          placeholder={placeholder}
          error={error}
          autoFocus
          autoComplete="off"
          spellCheck={false}
          onFocus={(e) => selectStem(e.currentTarget)}
          onChange={(e) => {
            setValue(e.target.value);
            setError(null);
          }}
        />
        <DialogFooter>
          <Button variant="ghost" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" disabled={pending}>
            {pending && <Spinner className="text-current" />}
            {submitLabel}
          </Button>
        </DialogFooter>
      </form>
    </DialogContent>
  );
}

/** Selects a file name without its extension, as editors do on rename. */
function selectStem(input: HTMLInputElement) {
  const v = input.value;
  const slash = v.lastIndexOf("/") + 1;
  const dot = v.lastIndexOf(".");
  input.setSelectionRange(slash, dot > slash ? dot : v.length);
}
