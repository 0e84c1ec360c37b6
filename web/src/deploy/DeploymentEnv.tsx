import { useQuery } from "@tanstack/react-query";
import { KeyRound } from "lucide-react";
import { api } from "@/lib/api";
import { Secrets, type SecretStore, type SecretWords } from "@/workspace/SecretsPane";

// The overrides are listed under envKey and the whole environment beneath it, so saving or removing
// an override (which refreshes envKey) refreshes what the inherited names show too.
const envKey = (projectId: string) => ["deployment-env", projectId] as const;

function deploymentOverrides(projectId: string): SecretStore {
  return {
    key: envKey(projectId),
    list: async () => (await api.deploymentEnv(projectId)).overrides,
    reveal: (name) => api.revealDeploymentEnv(projectId, name),
    set: (name, value) => api.setDeploymentEnv(projectId, name, value),
    remove: (name) => api.deleteDeploymentEnv(projectId, name),
  };
}

const overrideWords: SecretWords = {
  noun: "override",
  list: "Overrides",
  nameLabel: "Override name",
  valueLabel: "Override value",
  example: "DATABASE_URL",
  hint: "Naming a project secret replaces it for deploys only; naming an override changes its value.",
  applies: "It applies from the next deploy.",
  remove: "Remove",
  removed: "Removed",
  removes: "From the next deploy or scheduled run, the deployment gets the project's secret of this name, if it has one.",
  badge: "override",
  empty: null,
};

/**
 * The deployment's environment: the project's (and team's) secrets it inherits, by name, and its own
 * overrides, which replace a same-named secret or add one. Builds and scheduled runs read them when they start.
 */
export function DeploymentEnv({ projectId }: { projectId: string }) {
  return (
    <section aria-labelledby="deploy-env-heading" className="grid gap-2" data-testid="deployment-env">
      <h2 id="deploy-env-heading" className="text-sm font-semibold">
        Environment
      </h2>
      <Secrets store={deploymentOverrides(projectId)} words={overrideWords} className="overflow-visible p-0">
        Deploys get the project's secrets as environment variables, with these overrides in place of a secret of the
        same name. Changes apply from the next deploy or scheduled run; the workspace's runs keep the project's values.
      </Secrets>
      <Inherited projectId={projectId} />
    </section>
  );
}

/** The names the deployment inherits, read-only; an override's name says it is replaced. */
function Inherited({ projectId }: { projectId: string }) {
  // Loading and errors show in the overrides above, which read the same environment.
  const env = useQuery({ queryKey: [...envKey(projectId), "all"], queryFn: () => api.deploymentEnv(projectId) });
  if (!env.data) return null;
  const { secrets, teamSecrets, overrides } = env.data;
  const own = new Set(secrets.map((s) => s.name));
  const replaced = new Set(overrides.map((s) => s.name));
  const names = [
    ...secrets.map((s) => ({ name: s.name, from: "from project secrets" })),
    ...teamSecrets.filter((s) => !own.has(s.name)).map((s) => ({ name: s.name, from: "from team secrets" })),
  ].sort((a, b) => a.name.localeCompare(b.name));
  if (names.length === 0) return <p className="text-xs text-muted-foreground">The project has no secrets to inherit.</p>;
  return (
    <ul aria-label="Inherited" className="grid gap-1">
      {names.map((s) => (
        <li key={s.name} className="flex items-center gap-2 rounded-md border border-dashed border-border px-2 py-1.5">
          <KeyRound aria-hidden className="size-3.5 text-muted-foreground" />
          <span className={replaced.has(s.name) ? "font-mono text-muted-foreground line-through" : "font-mono"}>{s.name}</span>
          <span className="ml-auto text-xs text-muted-foreground">{replaced.has(s.name) ? "overridden" : s.from}</span>
        </li>
      ))}
    </ul>
  );
}
