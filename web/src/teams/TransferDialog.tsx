import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { toast } from "sonner";
import { useMe } from "@/auth/session";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogFooter } from "@/components/ui/dialog";
import { Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { usePending } from "@/components/ui/use-pending";
import { api, type Project } from "@/lib/api";
import { creatableIn, teamsQuery } from "./teams";

/** Moves a project between the person and their teams; the workspace follows it to its new URL. */
export function TransferDialog({ project, open, onOpenChange }: { project: Project; open: boolean; onOpenChange: (open: boolean) => void }) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      {open && <TransferForm project={project} onOpenChange={onOpenChange} />}
    </Dialog>
  );
}

function TransferForm({ project, onOpenChange }: { project: Project; onOpenChange: (open: boolean) => void }) {
  const me = useMe().data;
  const teams = useQuery(teamsQuery);
  const qc = useQueryClient();
  const navigate = useNavigate();
  // Anywhere the person may create projects, except where it already is.
  const owners = [
    ...(me && me.username !== project.owner ? [{ value: me.username, label: `${me.username} (you)` }] : []),
    ...creatableIn(teams.data)
      .filter((name) => name !== project.owner)
      .map((name) => ({ value: name, label: `@${name} (team)` })),
  ];
  const [owner, setOwner] = useState("");
  const chosen = owner || owners[0]?.value || "";
  const { pending, error, run } = usePending();

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!chosen) return;
    void run(
      async () => {
        const moved = await api.transferProject(project.id, chosen);
        await qc.invalidateQueries({ queryKey: ["projects"] });
        toast.success(`Moved ${project.name} to ${moved.owner}`);
        void navigate(moved.url, { replace: true });
      },
      () => onOpenChange(false),
    );
  }

  return (
    <DialogContent
      title={`Transfer ${project.name}`}
      description="Its files, history, collaborators and own secrets go with it. Its address changes, and who may change it follows the new owner's roles."
    >
      <form onSubmit={submit} className="grid gap-4" noValidate>
        {owners.length === 0 && !teams.isPending ? (
          <p className="text-[13px] text-muted-foreground">
            There is nowhere to move it: create a team, or join one as a member, first.
          </p>
        ) : (
          <div className="grid gap-1.5">
            <Label htmlFor="transfer-owner">New owner</Label>
            <Select id="transfer-owner" value={chosen} onChange={(e) => setOwner(e.target.value)} aria-invalid={!!error}>
              {owners.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </Select>
            {error && (
              <p role="alert" className="text-[13px] text-destructive">
                {error}
              </p>
            )}
          </div>
        )}
        <DialogFooter>
          <Button variant="ghost" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" disabled={pending || !chosen}>
            {pending && <Spinner className="text-current" />}
            Transfer
          </Button>
        </DialogFooter>
      </form>
    </DialogContent>
  );
}
