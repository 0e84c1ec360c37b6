import { useMutation, useQueryClient } from "@tanstack/react-query";
import { toast } from "sonner";
import { meQuery } from "@/auth/session";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { Switch } from "@/components/ui/switch";
import { api, errorMessage, type User } from "@/lib/api";

/** "Require a security key after the password": off, and saying why, until there is a key to require. */
export function RequireKeySwitch({ user, keyCount }: { user: User; keyCount: number }) {
  const qc = useQueryClient();
  const toggle = useMutation({
    mutationFn: api.setRequireKey,
    onSuccess: (next) => {
      qc.setQueryData(meQuery.queryKey, next);
      toast.success(next.requireKey ? "Logins now ask for a security key" : "Logins no longer ask for a security key");
    },
    onError: (err) => toast.error("Couldn't change the requirement", { description: errorMessage(err) }),
  });
  const why =
    keyCount === 0 && !user.requireKey
      ? "Add a security key first: logins would need one."
      : !user.hasPassword
        ? "Your account has no password; this applies to password logins only."
        : "When on, logging in with your password also asks for one of your keys.";
  const disabled = toggle.isPending || (keyCount === 0 && !user.requireKey) || (!user.hasPassword && !user.requireKey);

  return (
    <div className="mt-5 flex items-start gap-3 border-t border-border pt-4">
      <Switch
        id="require-key"
        checked={user.requireKey}
        disabled={disabled}
        aria-describedby="require-key-hint"
        onCheckedChange={(checked) => toggle.mutate(checked)}
        className="mt-0.5"
      />
      <div className="grid gap-0.5">
        <Label htmlFor="require-key" className="flex items-center gap-2">
          Require a security key after the password
          {toggle.isPending && <Spinner />}
        </Label>
        <p id="require-key-hint" className="text-xs text-muted-foreground">
          {why}
        </p>
      </div>
    </div>
  );
}
