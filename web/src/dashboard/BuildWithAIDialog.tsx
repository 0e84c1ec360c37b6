import { useIsMutating, useMutation, useQueryClient } from "@tanstack/react-query";
import { AlertCircle, Sparkles } from "lucide-react";
import { useRef, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { AISetupHelp } from "@/agent/AISetupHelp";
import { PromptTextarea } from "@/agent/PromptTextarea";
import { isNotConfigured, aiStatusQuery, useAiStatus } from "@/agent/queries";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogFooter } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { api, ApiError, errorMessage, type Project } from "@/lib/api";
import { projectsQuery } from "./projects";

const buildKey = ["build-with-ai"];
const MAX_DERIVED = 40;

/** A project name from the first few words of a prompt: "Build a hello page" → "build-a-hello-page". */
function nameFromPrompt(prompt: string): string {
  const words = prompt.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
  let name = "";
  for (const w of words.slice(0, 5)) {
    const next = name ? `${name}-${w}` : w.slice(0, MAX_DERIVED);
    if (next.length > MAX_DERIVED) break;
    name = next;
  }
  return name || "ai-app";
}

const nameTaken = (err: unknown) => err instanceof ApiError && err.code === "project_exists";

/** Creates a blank project called name; a derived name that is taken becomes name-2, name-3… */
async function createBlank(name: string, derived: boolean): Promise<Project> {
  for (let i = 1; ; i++) {
    const attempt = i === 1 ? name : `${name}-${i}`;
    try {
      return await api.createProject({ name: attempt, template: "blank" });
    } catch (err) {
      if (!derived || !nameTaken(err) || i >= 50) throw err;
    }
  }
}

/** "Build with AI": one prompt becomes a new project with the agent already at work on it. */
export function BuildWithAIDialog({
  open,
  onOpenChange,
  initialPrompt = "",
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  /** What the person already described (on the landing page, before signing up). */
  initialPrompt?: string;
}) {
  const busy = useIsMutating({ mutationKey: buildKey }) > 0;
  return (
    <Dialog open={open} onOpenChange={(next) => (next || !busy) && onOpenChange(next)}>
      {open && <BuildDialogContent busy={busy} initialPrompt={initialPrompt} onCancel={() => onOpenChange(false)} />}
    </Dialog>
  );
}

function BuildDialogContent({ busy, initialPrompt, onCancel }: { busy: boolean; initialPrompt: string; onCancel: () => void }) {
  const ai = useAiStatus();
  const title = "Build with AI";
  if (ai.data?.configured) return <BuildForm busy={busy} initialPrompt={initialPrompt} onCancel={onCancel} />;
  return (
    <DialogContent title={title}>
      {ai.isPending && <Spinner label="Checking the AI setup" />}
      {ai.isError && <ErrorState title="Couldn't check the AI setup" error={ai.error} onRetry={() => void ai.refetch()} />}
      {ai.data && (
        <>
          <p className="text-[13px] text-foreground">The AI agent isn't set up on this server yet.</p>
          <AISetupHelp />
          <p className="text-[13px] text-muted-foreground">Meanwhile, New project starts you from a template.</p>
        </>
      )}
      <DialogFooter>
        <Button onClick={onCancel}>Close</Button>
      </DialogFooter>
    </DialogContent>
  );
}

function BuildForm({ busy, initialPrompt, onCancel }: { busy: boolean; initialPrompt: string; onCancel: () => void }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const form = useRef<HTMLFormElement>(null);
  const [prompt, setPrompt] = useState(initialPrompt);
  const [name, setName] = useState("");
  const [promptError, setPromptError] = useState<string | null>(null);
  // Once the project exists, trying again only starts the agent: no second project.
  const [created, setCreated] = useState<Project | null>(null);
  const [stage, setStage] = useState<"creating" | "starting">("creating");

  const build = useMutation({
    mutationKey: buildKey,
    mutationFn: async (input: { prompt: string; name: string; derived: boolean }) => {
      let project = created;
      if (!project) {
        setStage("creating");
        project = await createBlank(input.name, input.derived);
        setCreated(project);
        void qc.invalidateQueries({ queryKey: projectsQuery.queryKey });
      }
      setStage("starting");
      await api.startAgentRun(project.id, input.prompt);
      return project;
    },
    onSuccess: (project) => navigate(`${project.url}?pane=agent`),
    onError: (err) => {
      if (isNotConfigured(err)) void qc.invalidateQueries({ queryKey: aiStatusQuery.queryKey });
    },
  });

  function submit(e?: FormEvent) {
    e?.preventDefault();
    if (build.isPending) return;
    const p = prompt.trim();
    if (!p) {
      setPromptError("Describe what you want to build.");
      return;
    }
    const typed = name.trim();
    build.mutate({ prompt: p, name: typed || nameFromPrompt(p), derived: !typed });
  }

  const nameError = build.isError && nameTaken(build.error) ? build.error.message : null;
  const failure = build.isError && !nameError ? build.error : null;

  return (
    <DialogContent
      title="Build with AI"
      description="Say what you want. The agent creates the files, runs the app and shows you each step."
      className="max-w-lg"
      onEscapeKeyDown={(e) => busy && e.preventDefault()}
      onInteractOutside={(e) => busy && e.preventDefault()}
    >
      <form ref={form} onSubmit={submit} className="grid gap-4" noValidate aria-busy={build.isPending}>
        <fieldset disabled={build.isPending} className="grid min-w-0 gap-4">
          <div className="grid gap-1.5">
            <Label htmlFor="build-prompt">What should it be?</Label>
            <PromptTextarea
              id="build-prompt"
              autoFocus
              rows={5}
              value={prompt}
              maxLength={20_000}
              placeholder="A page where my team votes on where to have lunch, with a list of places and a button to vote"
              aria-invalid={promptError ? true : undefined}
              aria-describedby={promptError ? "build-prompt-error" : undefined}
              onChange={(e) => {
                setPrompt(e.target.value);
                setPromptError(null);
              }}
              onSend={() => form.current?.requestSubmit()}
            />
            {promptError && (
              <p id="build-prompt-error" className="text-xs text-destructive-text">
                {promptError}
              </p>
            )}
          </div>
          {!created && (
            <Field
              label="Project name (optional)"
              name="name"
              autoComplete="off"
              placeholder={prompt.trim() ? nameFromPrompt(prompt) : "Made from your first words"}
              value={name}
              error={nameError}
              onChange={(e) => {
                setName(e.target.value);
                if (nameError) build.reset();
              }}
            />
          )}
        </fieldset>

        {build.isPending && (
          <div role="status" className="flex items-center gap-2 rounded-md border border-border bg-muted/60 px-3 py-2 text-[13px]">
            <Spinner className="text-foreground" />
            {stage === "creating" ? "Creating the project…" : "Starting the agent…"}
          </div>
        )}
        {failure && (
          <div role="alert" className="flex items-start gap-2 rounded-md border border-destructive-text/40 bg-destructive/10 px-3 py-2 text-[13px]">
            <AlertCircle className="mt-0.5 size-4 shrink-0 text-destructive-text" aria-hidden />
            <div className="grid gap-1">
              <p className="text-foreground">
                {created ? `${created.name} was created, but the agent couldn't start: ` : ""}
                {errorMessage(failure)}
              </p>
              {created && (
                <Link to={created.url} className="text-xs text-link underline-offset-4 hover:underline">
                  Open {created.name} without the agent
                </Link>
              )}
            </div>
          </div>
        )}

        <DialogFooter>
          <Button variant="ghost" onClick={onCancel} disabled={build.isPending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" disabled={build.isPending}>
            {build.isPending ? <Spinner className="text-current" /> : <Sparkles />}
            {failure ? "Try again" : "Build it"}
          </Button>
        </DialogFooter>
      </form>
    </DialogContent>
  );
}
