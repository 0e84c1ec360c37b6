import { useQuery } from "@tanstack/react-query";
import { Link, useLocation } from "react-router";
import { useMe } from "@/auth/session";
import { buttonVariants } from "@/components/ui/button";
import { ErrorState } from "@/components/ErrorState";
import { NotFoundPage } from "@/components/NotFoundPage";
import { Loading } from "@/components/ui/spinner";
import { api, ApiError } from "@/lib/api";
import { IpNotAllowedPage, isIpNotAllowed } from "@/teams/IpNotAllowedPage";
import { WorkspaceProvider } from "./model";
import { Workspace } from "./Workspace";

/** /@owner/slug: loads the project, then the workspace; a proper 404 when it isn't visible. */
export default function WorkspacePage({ owner, slug }: { owner: string; slug: string }) {
  const me = useMe();
  const location = useLocation();
  const project = useQuery({
    queryKey: ["project", owner, slug],
    queryFn: () => api.projectBySlug(owner, slug),
  });

  if (project.isPending) return <Loading label="Opening project" />;
  if (project.isError) {
    // A team's allowlist that leaves out the person's address: the whole page says so.
    if (isIpNotAllowed(project.error)) return <IpNotAllowedPage error={project.error} />;
    if (project.error instanceof ApiError && project.error.isNotFound) {
      return (
        <NotFoundPage
          title="Project not found"
          message={`There's no project at @${owner}/${slug}, or it's private. Check the link, or ask its owner to share it.`}
        >
          {me.data === null && (
            <Link to={`/login?next=${encodeURIComponent(location.pathname)}`} className={buttonVariants({ variant: "secondary" })}>
              Log in
            </Link>
          )}
        </NotFoundPage>
      );
    }
    return <ErrorState title="Couldn't open this project" error={project.error} onRetry={() => void project.refetch()} />;
  }
  return (
    <WorkspaceProvider key={project.data.id} project={project.data}>
      <title>{`${project.data.name} · E-Code`}</title>
      <Workspace />
    </WorkspaceProvider>
  );
}
