import { api, type Team } from "@/lib/api";
import { MaskingLimits, Secrets, type SecretStore } from "@/workspace/SecretsPane";

/** The team's secrets: environment variables of every run and shell of every team project. */
export function TeamSecretsTab({ team }: { team: Team }) {
  const store: SecretStore = {
    key: ["teams", team.name, "secrets"],
    list: () => api.teamSecrets(team.name),
    reveal: (name) => api.revealTeamSecret(team.name, name),
    set: (name, value) => api.setTeamSecret(team.name, name, value),
    remove: (name) => api.deleteTeamSecret(team.name, name),
  };
  return (
    <section aria-labelledby="team-secrets-heading" className="rounded-lg border border-border bg-panel">
      <h2 id="team-secrets-heading" className="px-3 pt-3 text-base font-semibold">
        Team secrets
      </h2>
      <Secrets store={store}>
        Every run, shell and command of every {team.name} project gets each secret as an environment variable (
        <code className="font-mono">$NAME</code>) from its next start; a project's own secret of the same name wins.
        Only admins see values here, but members and editors run code with them, so they can read them through it.
        Values are encrypted at rest, and each reveal is written to the audit log.
      </Secrets>
      <MaskingLimits />
    </section>
  );
}
