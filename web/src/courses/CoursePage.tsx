import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { BarChart3, ClipboardList, Settings, Users } from "lucide-react";
import { Link, useParams, useSearchParams } from "react-router";
import { AppShell } from "@/components/AppShell";
import { ErrorState } from "@/components/ErrorState";
import { NotFoundPage } from "@/components/NotFoundPage";
import { Badge } from "@/components/ui/badge";
import { buttonVariants } from "@/components/ui/button";
import { Loading } from "@/components/ui/spinner";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { ApiError } from "@/lib/api";
import { courseApi, courseKeys, isStaff, roleLabels, type Course } from "./api";
import { AssignmentsTab } from "./AssignmentsTab";
import { PeopleTab } from "./PeopleTab";
import { ProgressTab } from "./ProgressTab";
import { SettingsTab } from "./SettingsTab";

type Tab = "assignments" | "progress" | "people" | "settings";

/** The course for whoever asked, or a page that says why not. */
export function useCourse(id: string) {
  return useQuery({ queryKey: courseKeys.course(id), queryFn: () => courseApi.course(id) });
}

/** Loading, not found (non-members too) and failure for the course's pages. */
export function CourseGate({ id, children }: { id: string; children: (course: Course) => ReactNode }) {
  const course = useCourse(id);
  if (course.isPending) return <Loading label="Opening course" />;
  if (course.isError) {
    if (course.error instanceof ApiError && course.error.isNotFound) {
      return (
        <NotFoundPage title="Course not found" message="There's no such course, or you aren't in it. Ask its teacher for the join link.">
          <Link to="/courses" className={buttonVariants({ variant: "secondary" })}>
            Your courses
          </Link>
        </NotFoundPage>
      );
    }
    return (
      <AppShell>
        <ErrorState title="Couldn't open this course" error={course.error} onRetry={() => void course.refetch()} />
      </AppShell>
    );
  }
  return <AppShell>{children(course.data)}</AppShell>;
}

/** /courses/:id: assignments, progress, people and settings as tabs, by role. */
export default function CoursePage() {
  const { id = "" } = useParams();
  return (
    <CourseGate id={id}>
      {(course) => (
        <>
          <title>{`${course.name} · E-Code`}</title>
          <div className="mb-6">
            <p className="text-[13px] text-muted-foreground">
              <Link to="/courses" className="hover:underline">
                Courses
              </Link>
            </p>
            <div className="flex flex-wrap items-center gap-2">
              <h1 className="text-xl font-semibold">{course.name}</h1>
              <Badge aria-label={`Your role: ${roleLabels[course.role]}`}>{roleLabels[course.role]}</Badge>
            </div>
            {course.description && <p className="mt-1 text-[13px] text-muted-foreground">{course.description}</p>}
          </div>
          <CourseTabs course={course} />
        </>
      )}
    </CourseGate>
  );
}

function CourseTabs({ course }: { course: Course }) {
  const [params, setParams] = useSearchParams();
  const staff = isStaff(course.role);
  const teacher = course.role === "teacher";
  const tabs: Tab[] = teacher ? ["assignments", "progress", "people", "settings"] : staff ? ["assignments", "progress", "people"] : ["assignments", "progress"];
  const tab = tabs.find((t) => t === params.get("tab")) ?? "assignments";
  const choose = (next: string) =>
    setParams(
      (p) => {
        if (next === "assignments") p.delete("tab");
        else p.set("tab", next);
        return p;
      },
      { replace: true },
    );
  return (
    <Tabs value={tab} onValueChange={choose} className="flex flex-col gap-5">
      <TabsList aria-label="Course">
        <TabsTrigger value="assignments">
          <ClipboardList aria-hidden /> Assignments
        </TabsTrigger>
        <TabsTrigger value="progress">
          <BarChart3 aria-hidden /> {staff ? "Progress" : "My progress"}
        </TabsTrigger>
        {staff && (
          <TabsTrigger value="people">
            <Users aria-hidden /> People
          </TabsTrigger>
        )}
        {teacher && (
          <TabsTrigger value="settings">
            <Settings aria-hidden /> Settings
          </TabsTrigger>
        )}
      </TabsList>
      <TabsContent value="assignments">
        <AssignmentsTab course={course} />
      </TabsContent>
      <TabsContent value="progress">{tab === "progress" && <ProgressTab course={course} />}</TabsContent>
      {staff && <TabsContent value="people">{tab === "people" && <PeopleTab course={course} />}</TabsContent>}
      {teacher && <TabsContent value="settings">{tab === "settings" && <SettingsTab course={course} />}</TabsContent>}
    </Tabs>
  );
}
