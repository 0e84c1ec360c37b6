import { useEffect, useRef } from "react";
import { resetOutput, useTerminal } from "@/terminal/terminal";
import type { RunStore } from "./runs";

/** The run's output in a read-only terminal: everything kept so far, then live. Loaded lazily (xterm.js). */
export default function ConsoleOutput({ runs }: { runs: RunStore }) {
  const ref = useRef<HTMLDivElement>(null);
  const term = useTerminal(ref, { readOnly: true, label: "Run output" });

  useEffect(() => {
    if (!term) return;
    return runs.onOutput((e) => (e.kind === "reset" ? resetOutput(term) : term.write(e.bytes)));
  }, [term, runs]);

  return (
    <div className="h-full min-h-0 py-1 pl-2">
      <div ref={ref} data-testid="console-output" className="size-full overflow-hidden" />
    </div>
  );
}
