import { useMutation, useQueryClient } from "@tanstack/react-query";
import { AlertCircle } from "lucide-react";
import { useRef, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogFooter } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { api, ApiError, errorMessage } from "@/lib/api";
import { teamsQuery } from "./teams";

// Team names share the namespace of usernames, and their rules; the server has the last word (reserved words, taken names).
const namePattern = /^[a-z0-9][a-z0-9_-]*[a-z0-9]$/;

function nameProblem(name: string): string | null {
  if (!name) return "Give the team a name.";
  if (name.length < 3 || name.length > 32) return "Use 3 to 32 characters.";
  if (!namePattern.test(name)) return "Use letters and digits, with - or _ only inside (like acme-labs).";
  return null;
}

/** Server answers about the name (taken by a person or a team, not allowed) go beside the name field. */
function isNameError(err: unknown): err is ApiError {
  return err instanceof ApiError && !err.code.includes("display") && /name|taken|exists|reserved/.test(err.code);
}

export function NewTeamDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  return <Dialog open={open} onOpenChange={onOpenChange}>{open && <NewTeamForm onCancel={() => onOpenChange(false)} />}</Dialog>;
}

function NewTeamForm({ onCancel }: { onCancel: () => void }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [nameError, setNameError] = useState<string | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const teamName = name.trim().toLowerCase();
  const create = useMutation({
    mutationFn: () => api.createTeam(teamName, displayName.trim() || undefined),
    onSuccess: (team) => {
      void qc.invalidateQueries({ queryKey: teamsQuery.queryKey });
      toast.success(`Created ${team.displayName || team.name}`);
      void navigate(team.url);
    },
    onError: (err) => {
      if (isNameError(err)) {
        setNameError(err.message);
        nameRef.current?.focus();
      }
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    const problem = nameProblem(teamName);
    if (problem) {
      setNameError(problem);
      nameRef.current?.focus();
      return;
    }
    create.mutate();
  }
  const otherError = create.isError && !isNameError(create.error) ? errorMessage(create.error) : null;
  return (
    <DialogContent title="New team" description="A team owns projects together. You'll be its owner, and can add people next.">
      <form onSubmit={submit} noValidate className="grid gap-4" aria-busy={create.isPending}>
        <Field
          ref={nameRef}
          label="Team name"
          value={name}
          autoFocus
          autoComplete="off"
          spellCheck={false}
          placeholder="acme-labs"
          error={nameError}
          hint={`Letters, digits, - and _. Its page will be /@${teamName || "name"}.`}
          onChange={(e) => {
            setName(e.target.value);
            setNameError(null);
            if (create.isError) create.reset();
          }}
        />
        <Field
          label="Display name (optional)"
          value={displayName}
          maxLength={64}
          autoComplete="off"
          placeholder="Acme Labs"
          onChange={(e) => setDisplayName(e.target.value)}
        />
        {otherError && (
          <p role="alert" className="flex items-start gap-2 text-[13px] text-destructive-text">
            <AlertCircle className="mt-0.5 size-4 shrink-0" aria-hidden />
            {otherError}
          </p>
        )}
        <DialogFooter>
          <Button variant="ghost" onClick={onCancel} disabled={create.isPending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" disabled={create.isPending}>
            {create.isPending && <Spinner className="text-current" />}
            Create team
          </Button>
        </DialogFooter>
      </form>
    </DialogContent>
  );
}
