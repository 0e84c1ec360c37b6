import { useMutation, useQueryClient } from "@tanstack/react-query";
import { RadioGroup } from "radix-ui";
import { Check, Rocket, Save } from "lucide-react";
import { useState, type SyntheticEvent } from "react";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { GpuChoice } from "@/gpu/GpuChoice";
import {
  api,
  ApiError,
  errorMessage,
  type DeploymentConfig,
  type DeploymentState,
  type DeployTarget,
  type Release,
} from "@/lib/api";
import { cn } from "@/lib/utils";
import { deploymentKey, useDeploy } from "./queries";
import { targets } from "./targets";

type Draft = {
  target: DeployTarget;
  build: string;
  publicDir: string;
  run: string;
  schedule: string;
  timeZone: string;
  /** Seconds, as typed. */
  timeout: string;
  /** Whole numbers, as typed; empty takes the default. */
  minInstances: string;
  maxInstances: string;
  concurrency: string;
  healthPath: string;
  /** "" for none. */
  gpu: string;
};
const draftKeys = [
  "target",
  "build",
  "publicDir",
  "run",
  "schedule",
  "timeZone",
  "timeout",
  "minInstances",
  "maxInstances",
  "concurrency",
  "healthPath",
  "gpu",
] as const;
type Problems = Partial<Record<keyof Draft | "form", string>>;

/** Commands, folders and schedules are typed as code: no autocorrect, monospaced. */
const commandInput = { autoComplete: "off", spellCheck: false, className: "font-mono" } as const;

interface DeploySettingsProps {
  projectId: string;
  config: DeploymentConfig;
  /** Why this person can't change or deploy anything, if they can't. */
  blocked: string | null;
  /** The release on its way that a new one would queue behind. */
  ahead: Release | undefined;
  onDeployed: (release: Release) => void;
}

/** The type picker, the chosen type's settings and Deploy: saved to ecode.toml's [deployment] before each deploy. */
export function DeploySettings({ projectId, config, blocked, ahead, onDeployed }: DeploySettingsProps) {
  const qc = useQueryClient();
  // What the person changed, over the saved settings (which others may change meanwhile).
  const [edits, setEdits] = useState<Partial<Draft>>({});
  const saved: Draft = {
    target: config.target ?? "static",
    build: config.build ?? "",
    publicDir: config.publicDir ?? "",
    run: config.run ?? "",
    schedule: config.schedule ?? "",
    timeZone: config.timeZone ?? "",
    timeout: config.timeout ? String(config.timeout) : "",
    minInstances: config.minInstances ? String(config.minInstances) : "",
    maxInstances: config.maxInstances ? String(config.maxInstances) : "",
    concurrency: config.concurrency ? String(config.concurrency) : "",
    healthPath: config.healthPath ?? "",
    gpu: config.gpu ?? "",
  };
  const draft: Draft = { ...saved, ...edits };
  const dirty = draftKeys.some((k) => draft[k] !== saved[k]);
  const [problems, setProblems] = useState<Problems>({});
  const save = useMutation({
    mutationFn: () =>
      api.saveDeploymentConfig(projectId, {
        ...config,
        ...draft,
        timeout: whole(draft.timeout),
        minInstances: whole(draft.minInstances),
        maxInstances: whole(draft.maxInstances),
        concurrency: whole(draft.concurrency),
        // Only apps' instances run on a GPU.
        gpu: isApp(draft.target) ? draft.gpu : "",
      }),
    onSuccess: (saved) => {
      qc.setQueryData<DeploymentState>(deploymentKey(projectId), (d) => d && { ...d, config: saved });
      setEdits({});
    },
    onError: (err) => setProblems(problemsOf(err, draft.target)),
  });
  const deploy = useDeploy(projectId);

  const set = (change: Partial<Draft>) => {
    setEdits((e) => ({ ...e, ...change }));
    setProblems({});
  };

  async function submit(e: SyntheticEvent, andDeploy: boolean) {
    e.preventDefault();
    const found = check(draft);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    try {
      if (dirty) await save.mutateAsync();
      if (andDeploy) onDeployed(await deploy.mutateAsync());
    } catch {
      // Shown beside the fields (save) or under the button (deploy).
    }
  }

  const busy = save.isPending || deploy.isPending;
  const deployError = deploy.error ? errorMessage(deploy.error) : null;
  return (
    <form
      aria-label="Deployment settings"
      noValidate
      onSubmit={(e) => void submit(e, true)}
      className="grid gap-3"
    >
      <fieldset className="grid gap-2" disabled={!!blocked}>
        <legend className="mb-2 text-sm font-semibold">Type</legend>
        <RadioGroup.Root
          aria-label="Deployment type"
          value={draft.target}
          onValueChange={(v) => set({ target: v as DeployTarget })}
          className="grid gap-2 @md/tools:grid-cols-2"
        >
          {targets.map((t) => (
            <RadioGroup.Item
              key={t.id}
              value={t.id}
              aria-label={t.name}
              aria-describedby={`target-${t.id}-what`}
              className={cn(
                "group relative flex items-start gap-2 rounded-md border border-border bg-background p-2.5 text-left",
                "hover:border-input focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-ring",
                "data-[state=checked]:border-primary data-[state=checked]:bg-accent disabled:cursor-not-allowed disabled:opacity-60 disabled:hover:border-border",
              )}
            >
              <t.icon className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
              <span className="grid min-w-0 flex-1 gap-0.5 pr-4">
                <span className="font-medium">{t.name}</span>
                <span id={`target-${t.id}-what`} className="text-xs text-muted-foreground">
                  {t.what}
                </span>
              </span>
              <RadioGroup.Indicator className="absolute top-2.5 right-2.5">
                <Check className="size-3.5 text-primary" strokeWidth={3} aria-hidden />
              </RadioGroup.Indicator>
            </RadioGroup.Item>
          ))}
        </RadioGroup.Root>
        {problems.target && <p className="text-xs text-destructive-text">{problems.target}</p>}
      </fieldset>

      {draft.target === "scheduled" ? (
        <ScheduledFields draft={draft} config={config} problems={problems} blocked={blocked} set={set} />
      ) : draft.target === "autoscale" || draft.target === "vm" ? (
        <AppFields draft={draft} problems={problems} blocked={blocked} set={set} />
      ) : (
        <fieldset className="grid gap-3" disabled={!!blocked}>
          <legend className="mb-2 text-sm font-semibold">Static site</legend>
          <BuildCommand draft={draft} problems={problems} set={set}>
            Runs in a fresh sandbox from the project's files. Leave it empty when the files need no build.
          </BuildCommand>
          <Field
            label="Public folder"
            value={draft.publicDir}
            placeholder="dist"
            {...commandInput}
            error={problems.publicDir}
            hint="The folder, after the build, whose files are served. Its index.html answers /."
            onChange={(e) => set({ publicDir: e.target.value })}
          />
          {config.serves && (
            <p className="text-xs text-muted-foreground" data-testid="deploy-plan">
              {config.install && (
                <>
                  It installs with <code className="font-mono">{config.install}</code> before the build.{" "}
                </>
              )}
              As saved, a deploy serves {config.serves}.
            </p>
          )}
        </fieldset>
      )}

      {isApp(draft.target) && config.gpuKinds && (
        <GpuChoice
          kinds={config.gpuKinds}
          value={draft.gpu}
          disabled={!!blocked}
          error={problems.gpu}
          hint="Each instance holds one of its own while it runs; an instance with none free waits its turn."
          onChange={(gpu) => set({ gpu })}
        />
      )}

      {problems.form && (
        <p role="alert" className="text-destructive-text">
          {problems.form}
        </p>
      )}
      {deployError && (
        <p role="alert" className="text-destructive-text">
          Couldn't start the deploy: {deployError}
        </p>
      )}
      <div className="flex flex-wrap items-center gap-2">
        <Button type="submit" variant="primary" disabled={!!blocked || busy}>
          {deploy.isPending ? <Spinner className="text-current" /> : <Rocket />}
          Deploy
        </Button>
        <Button type="button" disabled={!!blocked || busy || !dirty} onClick={(e) => void submit(e, false)}>
          {save.isPending ? <Spinner className="text-current" /> : <Save />}
          Save settings
        </Button>
        {blocked ? (
          <span className="text-xs text-muted-foreground">{blocked}</span>
        ) : ahead ? (
          <span className="text-xs text-muted-foreground">A new deploy waits for release #{ahead.number} to finish.</span>
        ) : dirty ? (
          <span className="text-xs text-muted-foreground">Deploy saves these settings first.</span>
        ) : null}
      </div>
    </form>
  );
}

/** The build command, as every deployment type has it; children say what it does there. */
function BuildCommand({
  draft,
  problems,
  set,
  children,
}: Pick<ScheduledFieldsProps, "draft" | "problems" | "set"> & { children: string }) {
  return (
    <Field
      label="Build command"
      value={draft.build}
      placeholder="npm run build"
      {...commandInput}
      error={problems.build}
      hint={children}
      onChange={(e) => set({ build: e.target.value })}
    />
  );
}

interface ScheduledFieldsProps {
  draft: Draft;
  config: DeploymentConfig;
  problems: Problems;
  blocked: string | null;
  set: (change: Partial<Draft>) => void;
}

/** A scheduled job's settings: what it runs, when (said back in words once saved), in which zone, how long at most. */
function ScheduledFields({ draft, config, problems, blocked, set }: ScheduledFieldsProps) {
  const savedSchedule = draft.schedule === (config.schedule ?? "") && draft.timeZone === (config.timeZone ?? "");
  return (
    <fieldset className="grid gap-3" disabled={!!blocked}>
      <legend className="mb-2 text-sm font-semibold">Scheduled job</legend>
      <BuildCommand draft={draft} problems={problems} set={set}>
        Runs once per deploy, in a fresh sandbox. Leave it empty when nothing needs building.
      </BuildCommand>
      <Field
        label="Run command"
        value={draft.run}
        placeholder="node job.js"
        {...commandInput}
        error={problems.run}
        hint="Each run starts it in a fresh sandbox, over its own copy of the release, with the project's secrets."
        onChange={(e) => set({ run: e.target.value })}
      />
      <Field
        label="Schedule"
        value={draft.schedule}
        placeholder="every weekday at 9:00"
        autoComplete="off"
        spellCheck={false}
        error={problems.schedule}
        hint={
          savedSchedule && config.sentence ? (
            <span data-testid="schedule-sentence">
              {config.sentence}
              {config.timeZone ? ` (${config.timeZone})` : " (UTC)"} · cron <code className="font-mono">{config.cron}</code>
            </span>
          ) : (
            "Plain words (every 15 minutes, every day at 17:30, every monday at 8:00) or five cron fields."
          )
        }
        onChange={(e) => set({ schedule: e.target.value })}
      />
      <div className="grid items-start gap-3 @md/tools:grid-cols-2">
        <Field
          label="Time zone"
          value={draft.timeZone}
          placeholder="UTC"
          autoComplete="off"
          spellCheck={false}
          error={problems.timeZone}
          hint="Such as Europe/Paris or America/New_York."
          onChange={(e) => set({ timeZone: e.target.value })}
        />
        <Field
          label="Timeout (seconds)"
          value={draft.timeout}
          placeholder="600"
          inputMode="numeric"
          error={problems.timeout}
          hint="A run still going after this many seconds is stopped; at most 3600, default 600."
          onChange={(e) => set({ timeout: e.target.value })}
        />
      </div>
    </fieldset>
  );
}

/** An app's settings: what starts each instance, how many run, and when one may take traffic. */
function AppFields({ draft, problems, blocked, set }: Omit<ScheduledFieldsProps, "config">) {
  const vm = draft.target === "vm";
  const number = { inputMode: "numeric", autoComplete: "off" } as const;
  return (
    <fieldset className="grid gap-3" disabled={!!blocked}>
      <legend className="mb-2 text-sm font-semibold">{vm ? "Reserved VM" : "Autoscale"}</legend>
      <BuildCommand draft={draft} problems={problems} set={set}>
        Runs once per deploy, in a fresh sandbox; every instance starts from its result. Leave it empty when nothing
        needs building.
      </BuildCommand>
      <Field
        label="Run command"
        value={draft.run}
        placeholder="npm start"
        {...commandInput}
        error={problems.run}
        hint={
          vm
            ? "Runs on each instance, always on, and starts again after a growing pause if it ends. A server listens on $PORT; the release's files are read-only to it."
            : "Starts each instance, with the project's secrets. It listens on $PORT; the release's files are read-only to it."
        }
        onChange={(e) => set({ run: e.target.value })}
      />
      {vm ? (
        <Field
          label="Instances"
          value={draft.maxInstances}
          placeholder="1"
          {...number}
          error={problems.maxInstances}
          hint="How many run at all times, each with its own copy of the app; default 1."
          onChange={(e) => set({ maxInstances: e.target.value })}
        />
      ) : (
        <div className="grid items-start gap-3 @md/tools:grid-cols-3">
          <Field
            label="Min instances"
            value={draft.minInstances}
            placeholder="0"
            {...number}
            error={problems.minInstances}
            hint="Kept running when idle. 0 scales to zero: the next request starts one."
            onChange={(e) => set({ minInstances: e.target.value })}
          />
          <Field
            label="Max instances"
            value={draft.maxInstances}
            placeholder="3"
            {...number}
            error={problems.maxInstances}
            hint="The most that run at once; default 3, at most 100."
            onChange={(e) => set({ maxInstances: e.target.value })}
          />
          <Field
            label="Concurrency"
            value={draft.concurrency}
            placeholder="80"
            {...number}
            error={problems.concurrency}
            hint="Requests in flight on each before another starts; default 80."
            onChange={(e) => set({ concurrency: e.target.value })}
          />
        </div>
      )}
      <Field
        label="Health path"
        value={draft.healthPath}
        placeholder="/health"
        {...commandInput}
        error={problems.healthPath}
        hint="A path that must answer 2xx or 3xx before an instance takes traffic. Empty: the port opening is enough."
        onChange={(e) => set({ healthPath: e.target.value })}
      />
      {vm && (
        <p className="text-xs text-muted-foreground">
          A background worker that opens no port, such as a bot or a queue consumer, is fine too: leave the health path
          empty.
        </p>
      )}
    </fieldset>
  );
}

/** Autoscale and vm: the types whose instances may run on a GPU. */
const isApp = (target: DeployTarget) => target === "autoscale" || target === "vm";

/** A whole number as typed, or 0 (the default) when empty. */
const whole = (typed: string) => Number(typed.trim()) || 0;
const isWhole = (typed: string) => /^\d*$/.test(typed.trim());

/** What the pane can tell before asking the server: folders inside the project, whole numbers in range, a command to run. */
function check(d: Draft): Problems {
  const dir = d.publicDir.trim();
  switch (d.target) {
    case "static":
      if (dir.startsWith("/") || dir.split("/").includes("..")) {
        return { publicDir: "A folder inside the project, like dist or public." };
      }
      return {};
    case "scheduled":
      if (!isWhole(d.timeout)) return { timeout: "A whole number of seconds, at most 3600." };
      if (d.run.trim() === "") return { run: "The command each run starts." };
      if (d.schedule.trim() === "") return { schedule: "When it runs, like every weekday at 9:00." };
      return {};
    case "autoscale":
    case "vm":
      if (d.run.trim() === "") return { run: "The command that starts the app, like npm start." };
      if (!isWhole(d.minInstances)) return { minInstances: "A whole number: 0 scales to zero." };
      if (!isWhole(d.maxInstances) || whole(d.maxInstances) > 100) return { maxInstances: "A whole number, at most 100." };
      if (!isWhole(d.concurrency) || whole(d.concurrency) > 1000) return { concurrency: "A whole number, at most 1000." };
      if (d.target === "autoscale" && d.maxInstances.trim() !== "" && whole(d.minInstances) > whole(d.maxInstances)) {
        return { minInstances: "At most the max instances." };
      }
      if (d.healthPath.trim() !== "" && !/^\/\S*$/.test(d.healthPath.trim())) return { healthPath: "A path such as /health." };
      return {};
  }
}

/** The settings each type's form shows: a refusal naming one of them is shown beside it, any other above the buttons. */
const shownFields: Record<DeployTarget, readonly (keyof Draft)[]> = {
  static: ["target", "build", "publicDir"],
  scheduled: ["target", "build", "run", "schedule", "timeZone", "timeout"],
  autoscale: ["target", "build", "run", "minInstances", "maxInstances", "concurrency", "healthPath", "gpu"],
  vm: ["target", "build", "run", "maxInstances", "healthPath", "gpu"],
};

/** The server's refusal, beside the field its message names. */
function problemsOf(err: unknown, target: DeployTarget): Problems {
  const message = errorMessage(err);
  // gpu_unavailable, gpu_not_in_plan, gpu_want_invalid.
  if (err instanceof ApiError && err.code.startsWith("gpu_") && isApp(target)) return { gpu: message };
  const key = err instanceof ApiError && err.code === "invalid_deployment" ? /^\[deployment\] (\w+):/.exec(message)?.[1] : undefined;
  const fields: readonly string[] = shownFields[target];
  if (key && fields.includes(key)) return { [key]: message };
  return { form: `Couldn't save the settings: ${message}` };
}
