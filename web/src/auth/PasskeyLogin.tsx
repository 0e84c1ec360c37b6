import { useMutation } from "@tanstack/react-query";
import { KeyRound } from "lucide-react";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage, type User } from "@/lib/api";
import { loginWithPasskey, passkeysSupported } from "@/passkey/webauthn";
import { FormError } from "./AuthLayout";

/** "Sign in with a passkey", under the password form; absent where the browser can't. */
export function PasskeyLogin({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const login = useMutation({ mutationFn: loginWithPasskey, onSuccess: onSignedIn });
  if (!passkeysSupported()) return null;
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
