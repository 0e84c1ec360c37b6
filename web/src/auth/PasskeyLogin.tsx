import { useMutation } from "@tanstack/react-query";
import { KeyRound } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage, type User } from "@/lib/api";
import { PasskeyNotice, usePasskeyPlace } from "@/passkey/availability";
import { loginWithPasskey } from "@/passkey/webauthn";
import { FormError } from "./AuthLayout";

/**
 * "Sign in with a passkey", under the password form; where passkeys work at
 * another address of this server, or are off, a line that says so instead.
 */
export function PasskeyLogin({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const login = useMutation({ mutationFn: loginWithPasskey, onSuccess: onSignedIn });
  const place = usePasskeyPlace();
  if (place.kind === "unknown" || place.kind === "unsupported") return null;
  if (place.kind !== "here") return <PasskeyNotice place={place} className="mt-4 text-xs text-muted-foreground" />;
  return (
    <div className="mt-4 grid gap-3">
      <div className="flex items-center gap-3 text-xs text-muted-foreground" aria-hidden>
        <span className="h-px flex-1 bg-border" />
        or
        <span className="h-px flex-1 bg-border" />
      </div>
      <FormError message={login.error ? errorMessage(login.error) : null} />
      <Button variant="outline" size="lg" disabled={login.isPending} onClick={() => login.mutate()}>
        {login.isPending ? <Spinner className="text-current" /> : <KeyRound />}
        Sign in with a passkey
      </Button>
    </div>
  );
}
