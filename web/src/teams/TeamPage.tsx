import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Coins, FolderKanban, KeyRound, ScrollText, Settings, Users } from "lucide-react";
import { useCallback, useSyncExternalStore } from "react";
import { Link, useSearchParams } from "react-router";
import { usagePath } from "@/billing/api";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { NotFoundPage } from "@/components/NotFoundPage";
import { Badge } from "@/components/ui/badge";
import { buttonVariants } from "@/components/ui/button";
import { Loading } from "@/components/ui/spinner";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { ApiError, type Team } from "@/lib/api";
import { IpNotAllowedPage, isIpNotAllowed } from "./IpNotAllowedPage";
import { TeamAuditTab } from "./TeamAuditTab";
import { TeamMembersTab } from "./TeamMembersTab";
import { TeamProjectsTab } from "./TeamProjectsTab";
import { TeamSecretsTab } from "./TeamSecretsTab";
import { TeamSettingsTab } from "./TeamSettingsTab";
import { atLeast, teamQuery, teamRoleLabels } from "./teams";

type Tab = "projects" | "members" | "secrets" | "audit" | "settings";

/** /@team: the team's projects and people; for its admins also its secrets, audit log and settings. */
export default function TeamPage({ name }: { name: string }) {
  const team = useQuery(teamQuery(name));
  const blocked = useIpBlock(name);

  if (blocked) return <IpNotAllowedPage error={blocked} />;
  if (team.isPending) return <Loading label="Opening team" />;
  if (team.isError) {
    if (team.error instanceof ApiError && team.error.isNotFound) {
      return (
        <NotFoundPage
          title="Team not found"
          message={`There's no team called @${name}, or you aren't one of its members. Ask one of its admins to add you.`}
        />
      );
    }
    return (
      <AppShell>
        <ErrorState title="Couldn't open this team" error={team.error} onRetry={() => void team.refetch()} />
      </AppShell>
    );
  }
  return (
    <AppShell>
      <title>{`${team.data.displayName || team.data.name} · E-Code`}</title>
      <TeamHeader team={team.data} />
      <TeamTabs team={team.data} />
    </AppShell>
  );
}

function TeamHeader({ team }: { team: Team }) {
  return (
    <div className="mb-6 flex items-center gap-3">
      <span aria-hidden className="grid size-10 place-items-center rounded-lg bg-accent text-sm font-semibold uppercase text-accent-foreground">
        {team.name.slice(0, 2)}
      </span>
      <div className="min-w-0">
        <h1 className="truncate text-xl font-semibold">{team.displayName || team.name}</h1>
        <p className="flex items-center gap-2 text-[13px] text-muted-foreground">
          <span className="font-mono">@{team.name}</span>
          <Badge aria-label={`Your role: ${teamRoleLabels[team.role]}`}>{teamRoleLabels[team.role]}</Badge>
        </p>
      </div>
      {atLeast(team.role, "admin") && (
        <Link to={usagePath(team.name)} className={`${buttonVariants({ variant: "secondary", size: "sm" })} ml-auto`}>
          <Coins aria-hidden /> Usage
        </Link>
      )}
    </div>
  );
}

function TeamTabs({ team }: { team: Team }) {
  const [params, setParams] = useSearchParams();
  const admin = atLeast(team.role, "admin");
  const tabs: Tab[] = admin ? ["projects", "members", "secrets", "audit", "settings"] : ["projects", "members"];
  const asked = params.get("tab");
  const tab = tabs.find((t) => t === asked) ?? "projects";
  const choose = (next: string) =>
    setParams(
      (p) => {
        if (next === "projects") p.delete("tab");
        else p.set("tab", next);
        return p;
      },
      { replace: true },
    );

  return (
    <Tabs value={tab} onValueChange={choose} className="flex flex-col gap-5">
      <TabsList aria-label="Team">
        <TabsTrigger value="projects">
          <FolderKanban aria-hidden /> Projects
        </TabsTrigger>
        <TabsTrigger value="members">
          <Users aria-hidden /> Members
        </TabsTrigger>
        {admin && (
          <>
            <TabsTrigger value="secrets">
              <KeyRound aria-hidden /> Secrets
            </TabsTrigger>
            <TabsTrigger value="audit">
              <ScrollText aria-hidden /> Audit
            </TabsTrigger>
            <TabsTrigger value="settings">
              <Settings aria-hidden /> Settings
            </TabsTrigger>
          </>
        )}
      </TabsList>
      <TabsContent value="projects">
        <TeamProjectsTab team={team} />
      </TabsContent>
      <TabsContent value="members">
        <TeamMembersTab team={team} />
      </TabsContent>
      {admin && (
        <>
          <TabsContent value="secrets">
            <TeamSecretsTab team={team} />
          </TabsContent>
          <TabsContent value="audit">
            <TeamAuditTab team={team} />
          </TabsContent>
          <TabsContent value="settings">
            <TeamSettingsTab team={team} />
          </TabsContent>
        </>
      )}
    </Tabs>
  );
}

/**
 * The ip_not_allowed answer to any of the team's queries, if one got it: once the
 * allowlist shuts the person out, the whole page says so rather than each tab.
 */
function useIpBlock(team: string): ApiError | null {
  const cache = useQueryClient().getQueryCache();
  const subscribe = useCallback((onChange: () => void) => cache.subscribe(onChange), [cache]);
  const snapshot = () => {
    const queries = [...cache.findAll({ queryKey: ["teams", team] }), ...cache.findAll({ queryKey: ["projects", "team", team] })];
    const error = queries.map((q) => q.state.error).find(isIpNotAllowed);
    return error ?? null;
  };
  return useSyncExternalStore(subscribe, snapshot);
}
