import { lazy, Suspense, type ReactNode } from "react";
import { Route, Routes, useParams } from "react-router";
import { LoginPage } from "./auth/LoginPage";
import { RequireAuth } from "./auth/RequireAuth";
import { SecondFactorPage, secondFactorPath } from "./auth/SecondFactorPage";
import { SignupPage } from "./auth/SignupPage";
import { ChooseUsernamePage, chooseUsernamePath } from "./auth/ChooseUsernamePage";
import { useMe } from "./auth/session";
import { ErrorState } from "./components/ErrorState";
import { NotFoundPage } from "./components/NotFoundPage";
import { Loading } from "./components/ui/spinner";
import { DashboardPage } from "./dashboard/DashboardPage";
import { LandingPage } from "./landing/LandingPage";
import { platformMonitoringPath } from "./monitoring/PlatformMonitoringLink";
import { SettingsPage } from "./settings/SettingsPage";

// The workspace carries CodeMirror and friends; load it only when a project opens.
const WorkspacePage = lazy(() => import("./workspace/WorkspacePage"));
const InvitePage = lazy(() => import("./collab/InvitePage"));
const TeamPage = lazy(() => import("./teams/TeamPage"));
const TeamInvitePage = lazy(() => import("./teams/TeamInvitePage"));
const PlatformMonitoringPage = lazy(() => import("./monitoring/PlatformMonitoring"));
const UsagePage = lazy(() => import("./billing/UsagePage"));
const CoursesPage = lazy(() => import("./courses/CoursesPage"));
const CourseJoinPage = lazy(() => import("./courses/JoinPage"));
const CoursePage = lazy(() => import("./courses/CoursePage"));
const AssignmentPage = lazy(() => import("./courses/AssignmentPage"));
const DeepLinkPage = lazy(() => import("./lti/DeepLinkPage"));
const DevicePage = lazy(() => import("./auth/DevicePage"));

export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path={secondFactorPath} element={<SecondFactorPage />} />
      <Route path="/signup" element={<SignupPage />} />
      <Route path={chooseUsernamePath} element={<ChooseUsernamePage />} />
      <Route path="/" element={<HomeRoute />} />
      <Route
        path="/settings"
        element={
          <RequireAuth>
            <SettingsPage />
          </RequireAuth>
        }
      />
      <Route
        path={platformMonitoringPath}
        element={
          <RequireAuth>
            <Suspense fallback={<Loading />}>
              <PlatformMonitoringPage />
            </Suspense>
          </RequireAuth>
        }
      />
      <Route
        path="/usage"
        element={
          <RequireAuth>
            <Suspense fallback={<Loading />}>
              <UsagePage />
            </Suspense>
          </RequireAuth>
        }
      />
      <Route path="/courses" element={<Signed page={<CoursesPage />} />} />
      <Route path="/courses/join/:code" element={<Signed page={<CourseJoinPage />} />} />
      <Route path="/courses/:id" element={<Signed page={<CoursePage />} />} />
      <Route path="/courses/:id/assignments/:aid" element={<Signed page={<AssignmentPage />} />} />
      <Route path="/lti/deep-link/:token" element={<Signed page={<DeepLinkPage />} />} />
      <Route path="/device" element={<Signed page={<DevicePage />} />} />
      <Route
        path="/invite/:token"
        element={
          <RequireAuth>
            <Suspense fallback={<Loading />}>
              <InvitePage />
            </Suspense>
          </RequireAuth>
        }
      />
      <Route
        path="/team-invite/:token"
        element={
          <RequireAuth>
            <Suspense fallback={<Loading />}>
              <TeamInvitePage />
            </Suspense>
          </RequireAuth>
        }
      />
      <Route path="/:owner" element={<TeamRoute />} />
      <Route path="/:owner/:slug" element={<ProjectRoute />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}

/** A lazily loaded page for signed-in people. */
function Signed({ page }: { page: ReactNode }) {
  return (
    <RequireAuth>
      <Suspense fallback={<Loading />}>{page}</Suspense>
    </RequireAuth>
  );
}

/** /: the dashboard for a signed-in person, the landing page for everyone else. */
function HomeRoute() {
  const me = useMe();
  if (me.isPending) return <Loading />;
  if (me.isError) return <ErrorState error={me.error} onRetry={() => void me.refetch()} />;
  return me.data ? <DashboardPage /> : <LandingPage />;
}

/** /@team; a person's page (/@user) doesn't exist yet, so the team's page answers it with "Team not found". */
function TeamRoute() {
  const { owner = "" } = useParams();
  if (!owner.startsWith("@") || owner.length < 2) return <NotFoundPage />;
  const name = owner.slice(1);
  return (
    <RequireAuth>
      <Suspense fallback={<Loading label="Opening team" />}>
        <TeamPage key={name} name={name} />
      </Suspense>
    </RequireAuth>
  );
}

/** /@owner/slug; anything else with two segments is a 404. */
function ProjectRoute() {
  const { owner = "", slug = "" } = useParams();
  if (!owner.startsWith("@") || owner.length < 2) return <NotFoundPage />;
  return (
    <Suspense fallback={<Loading label="Opening workspace" />}>
      <WorkspacePage key={`${owner}/${slug}`} owner={owner.slice(1)} slug={slug} />
    </Suspense>
  );
}
