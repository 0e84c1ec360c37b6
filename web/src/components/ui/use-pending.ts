import { useState } from "react";
import { errorMessage } from "@/lib/api";

/** Runs a dialog's action, tracking progress and keeping its error to show in place. */
export function usePending() {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function run(action: () => Promise<unknown> | void, onDone: () => void) {
    setPending(true);
    setError(null);
    try {
      await action();
      onDone();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setPending(false);
    }
  }

  return { pending, error, setError, run };
}
