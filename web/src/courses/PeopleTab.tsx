import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { toast } from "sonner";
import { useMe } from "@/auth/session";
import { AddByUsername, MemberRow, PeopleList, PeopleSection, RemoveMemberDialog, RoleSelect, type RoleOption } from "@/collab/people";
import { ErrorState } from "@/components/ErrorState";
import { Badge } from "@/components/ui/badge";
import { Loading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { formatDate, timeAgo } from "@/lib/format";
import { courseApi, courseKeys, roleHints, roleLabels, type Course, type CourseMember, type CourseRole } from "./api";

const roles: CourseRole[] = ["teacher", "ta", "student"];
const roleOptions: RoleOption<CourseRole>[] = roles.map((r) => ({ value: r, label: roleLabels[r], title: roleHints[r] }));

/** The course's teachers, TAs and students; teachers add people by username, change roles and remove them (not the owner). */
export function PeopleTab({ course }: { course: Course }) {
  const members = useQuery({ queryKey: courseKeys.members(course.id), queryFn: () => courseApi.members(course.id) });
  const teacher = course.role === "teacher";
  const qc = useQueryClient();
  const me = useMe().data;
  const [removing, setRemoving] = useState<CourseMember | null>(null);
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: courseKeys.members(course.id) });
    void qc.invalidateQueries({ queryKey: courseKeys.course(course.id) });
  };
  const setRole = useMutation({
    mutationFn: ({ member, role }: { member: CourseMember; role: CourseRole }) => courseApi.setMemberRole(course.id, member.userId, role),
    onSuccess: (member) => {
      refresh();
      toast.success(`${member.username} is now ${roleLabels[member.role].toLowerCase()}`);
    },
    onError: (err) => toast.error("Couldn't change the role", { description: errorMessage(err) }),
  });
  const manages = (m: CourseMember) => teacher && m.userId !== course.ownerId && m.userId !== me?.id;
  return (
    <div className="grid gap-6">
      {teacher && (
        <AddByUsername
          surface="page"
          id="course-add-username"
          roles={roleOptions}
          initialRole="student"
          submitLabel="Add"
          add={(username, role) => courseApi.addMember(course.id, username, role)}
          onAdded={(member) => {
            refresh();
            toast.success(`${member.username} joined as ${roleLabels[member.role].toLowerCase()}`);
          }}
          hint={(role) => `${roleLabels[role]}: ${roleHints[role]}.`}
        />
      )}
      {members.isPending && <Loading label="Loading people" />}
      {members.isError && <ErrorState error={members.error} onRetry={() => void members.refetch()} />}
      {members.data && (
        <PeopleSection surface="page" title={`People (${members.data.length})`}>
          <PeopleList surface="page" label="People">
            {members.data.map((m) => (
              <MemberRow
                key={m.userId}
                surface="page"
                testId="course-member-row"
                username={m.username}
                self={m.userId === me?.id}
                detail={
                  <span className="ml-2 text-xs text-muted-foreground">
                    {m.userId === course.ownerId ? "owner · " : ""}joined <time title={formatDate(m.joinedAt)}>{timeAgo(m.joinedAt)}</time>
                  </span>
                }
                role={
                  manages(m) ? (
                    <RoleSelect
                      label={`Role for ${m.username}`}
                      value={m.role}
                      options={roleOptions}
                      disabled={setRole.isPending}
                      onChange={(role) => role !== m.role && setRole.mutate({ member: m, role })}
                    />
                  ) : (
                    <Badge>{roleLabels[m.role]}</Badge>
                  )
                }
                onRemove={manages(m) ? () => setRemoving(m) : undefined}
              />
            ))}
          </PeopleList>
        </PeopleSection>
      )}
      <RemoveMemberDialog
        member={removing}
        onClose={() => setRemoving(null)}
        title={(name) => `Remove ${name} from ${course.name}?`}
        description="They leave the course at once. Their own projects and past submissions are kept."
        remove={(m) => courseApi.removeMember(course.id, m.userId)}
        onRemoved={refresh}
      />
    </div>
  );
}
