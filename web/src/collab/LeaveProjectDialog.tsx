import { useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { useMe } from "@/auth/session";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { projectsQuery } from "@/dashboard/projects";
import { api, type Project } from "@/lib/api";

interface LeaveProjectDialogProps {
  /** The project to leave; null keeps the dialog closed. */
  project: Project | null;
  onOpenChange: (open: boolean) => void;
  /** After leaving (the dashboard drops the row, the workspace goes home). */
  onLeft?: (project: Project) => void;
}

/** "Leave PROJECT?" for a member: removes their own membership. */
export function LeaveProjectDialog({ project, onOpenChange, onLeft }: LeaveProjectDialogProps) {
  const me = useMe().data;
  const qc = useQueryClient();
  return (
    <ConfirmDialog
      open={project !== null}
      onOpenChange={onOpenChange}
      title={`Leave ${project?.name ?? "project"}?`}
      description="You lose access to its files at once. The owner can invite you again."
      confirmLabel="Leave project"
      destructive
      onConfirm={async () => {
        if (!project || !me) return;
        await api.removeMember(project.id, me.id);
        void qc.invalidateQueries({ queryKey: projectsQuery.queryKey });
        toast.success(`You left ${project.name}`);
        onLeft?.(project);
      }}
    />
  );
}
