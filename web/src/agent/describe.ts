import type { AgentRun, AgentStatus, AgentStep } from "@/lib/api";

// How the agent's steps and runs read in words, wherever they show.

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The one argument that says what a tool call is about: its path, command or packages. */
export function keyArgument(step: AgentStep): string {
  const input = step.input ?? {};
  const from = str(input.from);
  const to = str(input.to);
  if (from && to) return `${from} → ${to}`;
  const packages = input.packages;
  if (Array.isArray(packages)) return packages.filter((p) => typeof p === "string").join(" ");
  return str(input.path) ?? str(input.command) ?? str(input.url) ?? "";
}

const doing: Record<string, (arg: string) => string> = {
  list_files: () => "Looking through the files",
  read_file: (a) => `Reading ${a}`,
  write_file: (a) => `Writing ${a}`,
  edit_file: (a) => `Editing ${a}`,
  delete_file: (a) => `Deleting ${a}`,
  move_file: (a) => `Moving ${a}`,
  run_command: (a) => `Running ${a}`,
  install_packages: (a) => `Installing ${a}`,
  start_app: () => "Starting the app",
  check_app: () => "Checking the app",
  finish: () => "Wrapping up",
};

/** What the agent is doing now, judged from its last step. */
export function currentActivity(run: AgentRun): string {
  const last = run.steps?.at(-1);
  if (!last) return "Starting…";
  if (last.kind === "text") return last.text ? "Writing…" : "Thinking…";
  if (last.status !== "running") return "Thinking about the next step…";
  const arg = keyArgument(last);
  return (doing[last.tool ?? ""]?.(arg) ?? `Using ${last.tool ?? "a tool"}`) + "…";
}

export const statusLabel: Record<AgentStatus, string> = {
  running: "Working",
  done: "Done",
  stopped: "Stopped",
  failed: "Failed",
  needs_input: "Needs your answer",
};

/** "12.3k tokens": how much of the model the run used. */
export function formatTokens(run: Pick<AgentRun, "tokensIn" | "tokensOut">): string {
  const n = run.tokensIn + run.tokensOut;
  return n < 1000 ? `${n} tokens` : `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k tokens`;
}

/** Lines added and removed by unified diffs (their headers not counted). */
export function diffStat(diffs: string[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of diffs.join("\n").split("\n")) {
    if (line.startsWith("+++") || line.startsWith("---")) continue;
    if (line.startsWith("+")) added++;
    else if (line.startsWith("-")) removed++;
  }
  return { added, removed };
}
