import { AlertDialog } from "radix-ui";
import type { ReactNode } from "react";
import { Button } from "./button";
import { contentClass, overlayClass } from "./dialog";
import { Spinner } from "./spinner";
import { usePending } from "./use-pending";

interface ConfirmDialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: ReactNode;
  description: ReactNode;
  confirmLabel: string;
  destructive?: boolean;
  /** Runs the action; the dialog stays open with the error shown if it throws. */
  onConfirm: () => Promise<unknown> | void;
  /** Another way out, shown between Cancel and the confirm button (e.g. "Don't save"). */
  extra?: ReactNode;
}

export function ConfirmDialog({
  open,
  onOpenChange,
  title,
  description,
  confirmLabel,
  destructive,
  onConfirm,
  extra,
}: ConfirmDialogProps) {
  const { pending, error, setError, run } = usePending();

  return (
    <AlertDialog.Root
      open={open}
      onOpenChange={(next) => {
        if (!next) setError(null);
        onOpenChange(next);
      }}
    >
      <AlertDialog.Portal>
        <AlertDialog.Overlay className={overlayClass} />
        <AlertDialog.Content className={contentClass}>
          <div className="grid gap-1">
            <AlertDialog.Title className="text-base font-semibold">{title}</AlertDialog.Title>
            <AlertDialog.Description className="text-[13px] text-muted-foreground">{description}</AlertDialog.Description>
          </div>
          {error && (
            <p role="alert" className="text-[13px] text-destructive-text">
              {error}
            </p>
          )}
          <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
            <AlertDialog.Cancel asChild>
              <Button variant="ghost">Cancel</Button>
            </AlertDialog.Cancel>
            {extra}
            <Button
              variant={destructive ? "destructive" : "primary"}
              disabled={pending}
              onClick={() => void run(onConfirm, () => onOpenChange(false))}
            >
              {pending && <Spinner className="text-current" />}
              {confirmLabel}
            </Button>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
