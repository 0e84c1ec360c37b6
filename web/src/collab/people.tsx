// Building blocks for the screens that manage who has access to something:
// a project's Share dialog and a team's Members tab. They look the same but
// for density, so each piece takes the surface it sits on.
import { useMutation } from "@tanstack/react-query";
import { LogOut, Trash2, UserPlus } from "lucide-react";
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { toast } from "sonner";
import { Avatar } from "@/components/UserMenu";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { Input, Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { cn } from "@/lib/utils";

/** "dialog": compact, inside a dialog; "page": a page's bordered panels. */
export type Surface = "dialog" | "page";

const headingClass: Record<Surface, string> = { dialog: "text-[13px] font-semibold", page: "text-base font-semibold" };
const listClass: Record<Surface, string> = {
  dialog: "divide-y divide-border rounded-md border border-border",
  page: "divide-y divide-border rounded-lg border border-border bg-panel",
};
/** A list row's side padding. */
export const rowPadding: Record<Surface, string> = { dialog: "px-3", page: "px-4" };

/** A section named by its heading: h3 inside a dialog, h2 on a page. */
export function PeopleSection({ surface, title, children }: { surface: Surface; title: string; children: ReactNode }) {
  const id = useId();
  const Heading = surface === "dialog" ? "h3" : "h2";
  return (
    <section aria-labelledby={id} className="grid gap-2">
      <Heading id={id} className={headingClass[surface]}>
        {title}
      </Heading>
      {children}
    </section>
  );
}

export function PeopleList({ surface, label, children }: { surface: Surface; label: string; children: ReactNode }) {
  return (
    <ul aria-label={label} className={listClass[surface]}>
      {children}
    </ul>
  );
}

export interface RoleOption<R extends string> {
  value: R;
  label: string;
  /** What the role may do, shown on hover. */
  title?: string;
}

interface RoleSelectProps<R extends string> {
  value: R;
  options: readonly RoleOption<R>[];
  onChange: (role: R) => void;
  label: string;
  disabled?: boolean;
}

export function RoleSelect<R extends string>({ value, options, onChange, label, disabled }: RoleSelectProps<R>) {
  return (
    <Select
      aria-label={label}
      value={value}
      disabled={disabled}
      // Read the choice back from options, so only a role R ever reaches onChange.
      onChange={(e) => onChange(options.find((o) => o.value === e.target.value)?.value ?? value)}
      className="h-8 w-auto shrink-0 text-[13px]"
    >
      {options.map((o) => (
        <option key={o.value} value={o.value} title={o.title}>
          {o.label}
        </option>
      ))}
    </Select>
  );
}

interface AddByUsernameProps<R extends string, M> {
  surface: Surface;
  /** The username input's id; its error and hint take it as a prefix. */
  id: string;
  roles: readonly RoleOption<R>[];
  initialRole: R;
  submitLabel: string;
  add: (username: string, role: R) => Promise<M>;
  onAdded: (member: M) => void;
  /** Shown under the form while there is no error, e.g. what the chosen role may do. */
  hint?: (role: R) => ReactNode;
}

/** "Add people by username" with a role to give them. */
export function AddByUsername<R extends string, M>({ surface, id, roles, initialRole, submitLabel, add, onAdded, hint }: AddByUsernameProps<R, M>) {
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<R>(initialRole);
  const mutation = useMutation({
    mutationFn: () => add(username.trim().replace(/^@/, ""), role),
    onSuccess: (member) => {
      setUsername("");
      onAdded(member);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (username.trim()) mutation.mutate();
  };
  const page = surface === "page";

  return (
    <form onSubmit={submit} className={cn("grid gap-1.5", page && "rounded-lg border border-border bg-panel p-4")}>
      <Label htmlFor={id}>Add people by username</Label>
      <div className={cn("flex gap-2", page && "flex-wrap")}>
        <Input
          id={id}
          value={username}
          onChange={(e) => {
            setUsername(e.target.value);
            if (mutation.isError) mutation.reset();
          }}
          placeholder="username"
          autoComplete="off"
          spellCheck={false}
          aria-invalid={mutation.isError || undefined}
          aria-describedby={mutation.isError ? `${id}-error` : hint ? `${id}-hint` : undefined}
          className={cn("h-8 text-[13px]", page && "max-w-xs flex-1")}
        />
        <RoleSelect value={role} options={roles} onChange={setRole} label="Role for the new member" />
        <Button type="submit" variant="primary" disabled={mutation.isPending || !username.trim()}>
          {mutation.isPending ? <Spinner className="text-current" /> : <UserPlus />}
          {submitLabel}
        </Button>
      </div>
      {mutation.isError ? (
        <p id={`${id}-error`} role="alert" className="text-xs text-destructive-text">
          {errorMessage(mutation.error)}
        </p>
      ) : (
        hint && (
          <p id={`${id}-hint`} className="text-xs text-muted-foreground">
            {hint(role)}
          </p>
        )
      )}
    </form>
  );
}

interface MemberRowProps {
  surface: Surface;
  testId: string;
  username: string;
  self: boolean;
  /** After the name, e.g. when they joined. */
  detail?: ReactNode;
  /** Their role: a badge, or a picker for those who may change it. */
  role: ReactNode;
  /** Given when the viewer may remove them. */
  onRemove?: () => void;
  /** Given on the viewer's own row when they may leave. */
  onLeave?: () => void;
}

export function MemberRow({ surface, testId, username, self, detail, role, onRemove, onLeave }: MemberRowProps) {
  return (
    <li data-testid={testId} className={cn("flex items-center gap-2 py-2 text-[13px]", rowPadding[surface])}>
      <Avatar name={username} className="size-6 text-[10px]" />
      <span className="min-w-0 flex-1 truncate">
        {username}
        {self && <span className="text-muted-foreground"> (you)</span>}
        {detail}
      </span>
      {role}
      {onRemove && (
        <Button variant="ghost" size="icon-sm" aria-label={`Remove ${username}`} onClick={onRemove}>
          <Trash2 />
        </Button>
      )}
      {onLeave && (
        <Button variant="ghost" size="sm" onClick={onLeave}>
          <LogOut /> Leave
        </Button>
      )}
    </li>
  );
}

interface RemoveMemberDialogProps<M extends { username: string }> {
  /** The member to remove; null keeps the dialog closed. */
  member: M | null;
  onClose: () => void;
  title: (username: string) => string;
  description: string;
  remove: (member: M) => Promise<unknown>;
  onRemoved: () => void;
}

/** Asks before removing someone, then says so. */
export function RemoveMemberDialog<M extends { username: string }>({ member, onClose, title, description, remove, onRemoved }: RemoveMemberDialogProps<M>) {
  return (
    <ConfirmDialog
      open={member !== null}
      onOpenChange={(open) => !open && onClose()}
      title={title(member?.username ?? "")}
      description={description}
      confirmLabel="Remove"
      destructive
      onConfirm={async () => {
        if (!member) return;
        await remove(member);
        onRemoved();
        toast.success(`Removed ${member.username}`);
      }}
    />
  );
}
