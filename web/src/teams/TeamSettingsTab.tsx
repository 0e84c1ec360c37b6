import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Save, TriangleAlert } from "lucide-react";
import { useId, useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { toast } from "sonner";
import { DangerZone, TypeToConfirm } from "@/components/DangerZone";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { inputClass } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Loading, Spinner } from "@/components/ui/spinner";
import { api, ApiError, errorMessage, type Team, type TeamAllowlist } from "@/lib/api";
import { cn } from "@/lib/utils";
import { teamQuery, teamsQuery } from "./teams";

/** For the team's admins: its display name and IP allowlist; for its owners, deleting it. */
export function TeamSettingsTab({ team }: { team: Team }) {
  return (
    <div className="grid gap-8">
      <DisplayNameSection team={team} />
      <AllowlistSection team={team} />
      {team.role === "owner" && <DeleteTeam team={team} />}
    </div>
  );
}

const sectionClass = "rounded-lg border border-border bg-panel p-5";

function DisplayNameSection({ team }: { team: Team }) {
  const qc = useQueryClient();
  const [name, setName] = useState(team.displayName);
  const save = useMutation({
    mutationFn: () => api.updateTeam(team.name, { displayName: name.trim() }),
    onSuccess: (updated) => {
      qc.setQueryData(teamQuery(team.name).queryKey, updated);
      void qc.invalidateQueries({ queryKey: teamsQuery.queryKey, exact: true });
      toast.success("Display name saved");
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  return (
    <section aria-labelledby="team-name-heading" className={sectionClass}>
      <h2 id="team-name-heading" className="mb-4 text-base font-semibold">
        Profile
      </h2>
      <form onSubmit={submit} noValidate className="flex flex-col gap-3 sm:flex-row sm:items-start">
        <div className="flex-1">
          <Field
            label="Display name"
            value={name}
            maxLength={64}
            placeholder={team.name}
            error={save.isError ? errorMessage(save.error) : null}
            hint={`How the team is shown. Its URL stays /@${team.name}.`}
            onChange={(e) => {
              setName(e.target.value);
              if (save.isError) save.reset();
            }}
          />
        </div>
        <Button type="submit" variant="primary" className="h-9 sm:mt-[22px]" disabled={save.isPending || name.trim() === team.displayName}>
          {save.isPending && <Spinner className="text-current" />}
          Save
        </Button>
      </form>
    </section>
  );
}

function AllowlistSection({ team }: { team: Team }) {
  const allowlist = useQuery({ queryKey: ["teams", team.name, "allowlist"], queryFn: () => api.teamAllowlist(team.name) });
  return (
    <section aria-labelledby="team-allowlist-heading" className={sectionClass}>
      <h2 id="team-allowlist-heading" className="text-base font-semibold">
        IP allowlist
      </h2>
      <p className="mb-4 text-[13px] text-muted-foreground">
        Only people connecting from these networks reach the team, its projects, their workspaces and previews. Leave it
        empty to allow any address.
      </p>
      {allowlist.isPending && <Loading label="Loading the allowlist" />}
      {allowlist.isError && <ErrorState error={allowlist.error} onRetry={() => void allowlist.refetch()} />}
      {allowlist.data && <AllowlistEditor team={team} initial={allowlist.data} />}
    </section>
  );
}

function isCode(err: unknown, code: string): err is ApiError {
  return err instanceof ApiError && err.code === code;
}

function AllowlistEditor({ team, initial }: { team: Team; initial: TeamAllowlist }) {
  const qc = useQueryClient();
  const id = useId();
  const [text, setText] = useState(initial.allowlist.join("\n"));
  const [understood, setUnderstood] = useState(false);
  const entries = text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const save = useMutation({
    mutationFn: (confirm: boolean) => api.setTeamAllowlist(team.name, entries, confirm),
    onSuccess: (saved) => {
      qc.setQueryData(["teams", team.name, "allowlist"], saved);
      setText(saved.allowlist.join("\n"));
      setUnderstood(false);
      toast.success(saved.allowlist.length ? "Allowlist saved" : "Allowlist cleared: any address may connect");
      // When the list no longer holds this address, the team's next answer is ip_not_allowed and the page says so.
      void qc.invalidateQueries({ queryKey: teamQuery(team.name).queryKey, exact: true });
    },
  });
  const lockOut = isCode(save.error, "would_lock_out") ? save.error : null;
  const otherError = save.isError && !lockOut ? errorMessage(save.error) : null;
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate(false);
  }

  return (
    <form onSubmit={submit} noValidate className="grid gap-3">
      <div className="grid gap-1.5">
        <Label htmlFor={`${id}-list`}>Allowed addresses</Label>
        <textarea
          id={`${id}-list`}
          value={text}
          rows={5}
          spellCheck={false}
          autoComplete="off"
          placeholder={"10.0.0.0/8\n203.0.113.7\n2001:db8::/32"}
          aria-invalid={otherError ? true : undefined}
          aria-describedby={`${id}-hint${otherError ? ` ${id}-error` : ""}`}
          className={cn(inputClass, "h-auto py-2 font-mono text-[13px]")}
          onChange={(e) => {
            setText(e.target.value);
            setUnderstood(false);
            if (save.isError) save.reset();
          }}
        />
        <p id={`${id}-hint`} className="text-xs text-muted-foreground">
          One network (CIDR, like 10.0.0.0/8) or single address per line, IPv4 or IPv6.{" "}
          <span data-testid="your-ip">
            Your address: <code className="font-mono text-foreground">{initial.yourIp}</code>
          </span>
        </p>
        {otherError && (
          <p id={`${id}-error`} role="alert" className="text-xs text-destructive-text">
            {otherError}
          </p>
        )}
      </div>
      {lockOut && (
        <div role="alert" className="grid gap-3 rounded-md border border-warning/50 bg-warning/10 px-3 py-3 text-[13px]">
          <p className="flex items-start gap-2">
            <TriangleAlert className="mt-0.5 size-4 shrink-0 text-warning" aria-hidden />
            <span>{lockOut.message}</span>
          </p>
          <label className="flex items-center gap-2">
            <input type="checkbox" className="size-4 accent-warning" checked={understood} onChange={(e) => setUnderstood(e.target.checked)} />
            I understand I will lose access from this address
          </label>
          <Button
            variant="secondary"
            className="justify-self-start border-warning/50 text-warning"
            disabled={!understood || save.isPending}
            onClick={() => save.mutate(true)}
          >
            {save.isPending && <Spinner className="text-current" />}
            Save anyway
          </Button>
        </div>
      )}
      {!lockOut && (
        <Button type="submit" variant="primary" className="justify-self-start" disabled={save.isPending}>
          {save.isPending ? <Spinner className="text-current" /> : <Save />}
          Save allowlist
        </Button>
      )}
    </form>
  );
}

function DeleteTeam({ team }: { team: Team }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  return (
    <DangerZone
      title="Danger zone"
      buttonLabel="Delete team"
      dialog={(close) => (
        <TypeToConfirm
          title={`Delete ${team.name}?`}
          description={`Type ${team.name} to confirm. Its projects are deleted with it.`}
          label="Team name"
          matches={(typed) => typed.trim() === team.name}
          submitLabel="Delete team"
          action={(typed) => api.deleteTeam(team.name, typed.trim())}
          onDone={() => {
            void navigate("/", { replace: true });
            qc.removeQueries({ queryKey: ["teams", team.name] });
            void qc.invalidateQueries({ queryKey: teamsQuery.queryKey });
            void qc.invalidateQueries({ queryKey: ["projects"] });
            toast.success(`Deleted ${team.name}`);
          }}
          onCancel={close}
        />
      )}
    >
      Deleting the team also deletes {team.projects === 1 ? "its project" : `its ${team.projects} projects`}, with their files
      and history, and its secrets and invite links. This cannot be undone.
    </DangerZone>
  );
}
