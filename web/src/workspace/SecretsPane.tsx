import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Eye, EyeOff, KeyRound, Lock, Trash2 } from "lucide-react";
import { useState, type FormEvent, type ReactNode } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Loading, Spinner } from "@/components/ui/spinner";
import { api, ApiError, errorMessage, type ProjectSecret } from "@/lib/api";
import { timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { useProjectSession } from "@/workspace/model";

const namePattern = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Where a set of secrets lives (a project's, a team's) and how to read and change them. */
export interface SecretStore {
  key: readonly unknown[];
  list: () => Promise<ProjectSecret[]>;
  reveal: (name: string) => Promise<string>;
  set: (name: string, value: string) => Promise<void>;
  remove: (name: string) => Promise<void>;
}

/** How a list of secrets is worded where it is shown; the defaults speak of a project's or team's secrets. */
export interface SecretWords {
  /** What one of them is called, on the save and remove buttons. */
  noun: string;
  /** The list's accessible name. */
  list: string;
  nameLabel: string;
  valueLabel: string;
  /** A good name, shown in the empty name field and when a name won't do. */
  example: string;
  hint: string;
  /** When a saved value takes effect, told as it is saved. */
  applies: string;
  /** Removing one: the verb on its button, its past for the toast, and what it does, asked first. */
  remove: string;
  removed: string;
  removes: string;
  /** A tag on each one, where other secrets are listed nearby. */
  badge?: string;
  /** Shown while there are none. */
  empty: ReactNode;
}

const secretWords: SecretWords = {
  noun: "secret",
  list: "Secrets",
  nameLabel: "Name",
  valueLabel: "Value",
  example: "API_KEY",
  hint: "Naming an existing secret replaces its value.",
  applies: "Restart the app to give it the new value.",
  remove: "Delete",
  removed: "Deleted",
  removes: "Runs started from now on won't have it. Running ones keep it until they stop.",
  empty: (
    <EmptyState icon={KeyRound} title="No secrets yet">
      Add API keys and passwords here rather than in files, so they stay out of the project's history.
    </EmptyState>
  ),
};

function projectSecrets(projectId: string): SecretStore {
  return {
    key: ["secrets", projectId],
    list: () => api.listSecrets(projectId),
    reveal: (name) => api.revealSecret(projectId, name),
    set: (name, value) => api.setSecret(projectId, name, value),
    remove: (name) => api.deleteSecret(projectId, name),
  };
}

/** The project's secrets: environment variables of its runs and shells, masked in what they print. */
export function SecretsPane() {
  const { canEdit, project } = useProjectSession();
  if (!canEdit) {
    return (
      <EmptyState icon={Lock} title="Secrets are for editors">
        This project's secrets reach its runs as environment variables. Only people who can edit the project see them;
        the console shows <code className="font-mono">********</code> in their place.
      </EmptyState>
    );
  }
  return (
    <div className="grid overflow-auto">
      <Secrets store={projectSecrets(project.id)}>
        Runs, shells and commands get each secret as an environment variable (<code className="font-mono">$NAME</code>)
        from their next start. Values are encrypted at rest.
      </Secrets>
      <MaskingLimits />
      {project.ownerKind === "team" && <TeamSecretNames projectId={project.id} team={project.owner} />}
    </div>
  );
}

/** What masking does and does not do, said where people put secrets. */
export function MaskingLimits() {
  return (
    <p className="px-3 pb-3 text-xs text-muted-foreground">
      Output shows <code className="font-mono">********</code> wherever a value of 4 or more characters is printed
      whole, even in pieces, for everyone who sees the console, viewers of a public project included. Masking catches
      accidents, not code: a program can print a value encoded (base64, reversed), so whoever can edit a project can
      read the secrets it gets.
    </p>
  );
}

/** The team's secrets this project also gets: names only, the team's admins hold the values. */
function TeamSecretNames({ projectId, team }: { projectId: string; team: string }) {
  const own = useQuery({ queryKey: ["secrets", projectId], queryFn: () => api.listSecrets(projectId) });
  const inherited = useQuery({ queryKey: ["secrets", projectId, "team"], queryFn: () => api.listTeamSecretsOf(projectId) });
  if (!inherited.data?.length) return null;
  const overridden = new Set(own.data?.map((s) => s.name));
  return (
    <section aria-label="Team secrets" className="grid gap-2 p-3 pt-0 text-[13px]">
      <h3 className="font-medium">From team @{team}</h3>
      <p className="text-xs text-muted-foreground">
        The team's admins see and change these values; this project's runs get them all the same.
      </p>
      <ul className="grid gap-1">
        {inherited.data.map((s) => (
          <li key={s.name} className="flex items-center gap-2 rounded-md border border-border px-2 py-1.5">
            <KeyRound aria-hidden className="size-3.5 text-muted-foreground" />
            <span className="font-mono">{s.name}</span>
            {overridden.has(s.name) && <span className="ml-auto text-muted-foreground">replaced by this project's own</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

interface SecretsProps {
  store: SecretStore;
  words?: SecretWords;
  className?: string;
  /** Where the secrets go. */
  children: ReactNode;
}

/** A list of secrets to add, reveal, replace and delete. */
export function Secrets({ store, words = secretWords, className, children }: SecretsProps) {
  const key = store.key;
  const list = useQuery({ queryKey: key, queryFn: store.list });
  const qc = useQueryClient();
  const [deleting, setDeleting] = useState<string | null>(null);
  return (
    <div className={cn("grid gap-4 overflow-auto p-3 text-[13px]", className)}>
      <p className="text-muted-foreground">{children}</p>
      <SecretForm store={store} words={words} onSaved={() => void qc.invalidateQueries({ queryKey: key })} />
      {list.isPending && <Loading label={`Loading ${words.list.toLowerCase()}`} />}
      {list.isError && <ErrorState error={list.error} onRetry={() => void list.refetch()} />}
      {list.data?.length === 0 && words.empty}
      {list.data && list.data.length > 0 && (
        <ul aria-label={words.list} className="grid gap-2">
          {list.data.map((s) => (
            <SecretRow key={s.name} store={store} words={words} secret={s} onDelete={() => setDeleting(s.name)} />
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        title={`${words.remove} ${deleting ?? words.noun}?`}
        description={words.removes}
        confirmLabel={`${words.remove} ${words.noun}`}
        destructive
        onConfirm={async () => {
          if (!deleting) return;
          await store.remove(deleting);
          await qc.invalidateQueries({ queryKey: key });
          toast.success(`${words.removed} ${deleting}`);
        }}
      />
    </div>
  );
}

interface SecretRowProps {
  store: SecretStore;
  words: SecretWords;
  secret: ProjectSecret;
  onDelete: () => void;
}

/** One secret: its value shown on demand, or removed. */
function SecretRow({ store, words, secret, onDelete }: SecretRowProps) {
  const [value, setValue] = useState<string | null>(null);
  const reveal = useMutation({
    mutationFn: () => store.reveal(secret.name),
    onSuccess: setValue,
    onError: (err) => toast.error(`Couldn't show ${secret.name}`, { description: errorMessage(err) }),
  });
  return (
    <li className="grid gap-1.5 rounded-md border border-border px-3 py-2">
      <div className="flex items-center gap-2">
        <code className="min-w-0 flex-1 truncate font-mono font-medium">{secret.name}</code>
        {words.badge && <span className="text-xs text-muted-foreground">{words.badge}</span>}
        <Button
          variant="ghost"
          size="icon-sm"
          aria-label={value === null ? `Show ${secret.name}` : `Hide ${secret.name}`}
          disabled={reveal.isPending}
          onClick={() => (value === null ? reveal.mutate() : setValue(null))}
        >
          {value === null ? <Eye /> : <EyeOff />}
        </Button>
        <Button variant="ghost" size="icon-sm" aria-label={`${words.remove} ${secret.name}`} onClick={onDelete}>
          <Trash2 />
        </Button>
      </div>
      {value !== null && (
        <div className="flex items-center gap-2">
          <code data-testid="secret-value" className="min-w-0 flex-1 select-all break-all rounded bg-background px-2 py-1 font-mono text-xs">
            {value}
          </code>
          <CopyButton text={value} what="Value" />
        </div>
      )}
      <p className="text-xs text-muted-foreground">
        Set by {secret.updatedBy || "someone"} {timeAgo(secret.updatedAt)}
      </p>
    </li>
  );
}

/** Add a secret, or replace one's value by naming it again. */
function SecretForm({ store, words, onSaved }: { store: SecretStore; words: SecretWords; onSaved: () => void }) {
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [nameError, setNameError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => store.set(name.trim(), value),
    onSuccess: () => {
      toast.success(`Saved ${name.trim()}`, { description: words.applies });
      setName("");
      setValue("");
      onSaved();
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    if (!namePattern.test(name.trim())) {
      return setNameError(`Letters, digits and _, not starting with a digit (like ${words.example}).`);
    }
    save.mutate();
  }
  const serverError = save.error instanceof ApiError ? save.error.message : save.error ? errorMessage(save.error) : null;
  return (
    <form onSubmit={submit} noValidate className="grid gap-2 rounded-md border border-border p-3">
      <Field
        label={words.nameLabel}
        value={name}
        placeholder={words.example}
        autoComplete="off"
        spellCheck={false}
        className="font-mono"
        error={nameError}
        onChange={(e) => {
          setName(e.target.value);
          setNameError(null);
        }}
      />
      <Field
        label={words.valueLabel}
        type="password"
        value={value}
        autoComplete="new-password"
        onChange={(e) => setValue(e.target.value)}
        hint={words.hint}
      />
      {serverError && (
        <p role="alert" className="text-destructive-text">
          {serverError}
        </p>
      )}
      <Button type="submit" variant="primary" className="justify-self-start" disabled={save.isPending || !name.trim()}>
        {save.isPending && <Spinner className="text-current" />}
        {`Save ${words.noun}`}
      </Button>
    </form>
  );
}
