import { useQuery } from "@tanstack/react-query";
import { Plus, Users } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Loading } from "@/components/ui/spinner";
import { ProjectList } from "@/dashboard/ProjectList";
import type { Project, Team } from "@/lib/api";
import { NewTeamDialog } from "./NewTeamDialog";
import { teamRoleLabels, teamsQuery } from "./teams";

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** The dashboard's list of the person's teams, and the way to make one. */
export function TeamsSection() {
  const teams = useQuery(teamsQuery);
  const [creating, setCreating] = useState(false);
  return (
    <section aria-labelledby="teams-heading" className="mt-8">
      <div className="mb-3 flex items-center justify-between gap-4">
        <h2 id="teams-heading" className="text-base font-semibold">
          Teams
        </h2>
        <Button onClick={() => setCreating(true)}>
          <Plus /> New team
        </Button>
      </div>
      {teams.isPending && <Loading label="Loading teams" />}
      {teams.isError && <ErrorState error={teams.error} onRetry={() => void teams.refetch()} />}
      {teams.data?.length === 0 && (
        <p className="flex items-center gap-2 rounded-lg border border-dashed border-border px-4 py-3 text-[13px] text-muted-foreground">
          <Users className="size-4 shrink-0" aria-hidden />
          Make a team to own projects together, with shared secrets, an audit log and an IP allowlist.
        </p>
      )}
      {teams.data && teams.data.length > 0 && (
        <ul aria-label="Your teams" className="grid gap-2 sm:grid-cols-2">
          {teams.data.map((t) => (
            <TeamCard key={t.id} team={t} />
          ))}
        </ul>
      )}
      <NewTeamDialog open={creating} onOpenChange={setCreating} />
    </section>
  );
}

function TeamCard({ team }: { team: Team }) {
  return (
    <li className="flex items-center gap-3 rounded-lg border border-border bg-panel px-4 py-3 hover:bg-muted/50" data-testid="team-row">
      <span aria-hidden className="grid size-8 shrink-0 place-items-center rounded-md bg-accent text-xs font-semibold uppercase text-accent-foreground">
        {team.name.slice(0, 2)}
      </span>
      <div className="min-w-0 flex-1">
        <Link to={team.url} className="block truncate font-medium hover:underline">
          {team.displayName || team.name}
        </Link>
        <p className="truncate text-xs text-muted-foreground">
          @{team.name} · {plural(team.members, "member", "members")} · {plural(team.projects, "project", "projects")}
        </p>
      </div>
      <Badge aria-label={`Your role in ${team.name}: ${teamRoleLabels[team.role]}`}>{teamRoleLabels[team.role]}</Badge>
    </li>
  );
}

/** Projects of the person's teams on the dashboard, one list per team under its name. */
export function TeamProjectGroups({ projects }: { projects: Project[] }) {
  const teams = useQuery(teamsQuery);
  const groups = new Map<string, Project[]>();
  for (const p of projects) groups.set(p.owner, [...(groups.get(p.owner) ?? []), p]);
  return (
    <section aria-labelledby="team-projects-heading" className="mt-8 grid gap-4">
      <h2 id="team-projects-heading" className="text-base font-semibold">
        Team projects
      </h2>
      {[...groups].map(([name, list]) => {
        const team = teams.data?.find((t) => t.name === name);
        return (
          <div key={name} className="grid gap-2">
            <h3 className="flex items-baseline gap-2 text-[13px] font-semibold">
              <Link to={`/@${name}`} className="hover:underline">
                {team?.displayName || name}
              </Link>
              <span className="font-mono text-xs font-normal text-muted-foreground">@{name}</span>
            </h3>
            <ProjectList projects={list} label={`Projects of ${name}`} />
          </div>
        );
      })}
    </section>
  );
}
