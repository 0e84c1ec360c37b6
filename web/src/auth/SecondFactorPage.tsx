import { useMutation } from "@tanstack/react-query";
import { KeyRound } from "lucide-react";
import { Link, Navigate, useLocation } from "react-router";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { ApiError, errorMessage } from "@/lib/api";
import { confirmSecondFactor, passkeysSupported } from "@/passkey/webauthn";
import { AuthLayout, FormError } from "./AuthLayout";
import { useSignInFlow } from "./session";

/** Where the login page sends an account whose password was right and that requires a security key. */
export const secondFactorPath = "/login/second-factor";

/** The second step of a login: the password was right, the account's security key is asked for. */
export function SecondFactorPage() {
  const flow = useSignInFlow();
  const location = useLocation();
  const username = (location.state as { username?: string } | null)?.username;
  const confirm = useMutation({ mutationFn: confirmSecondFactor, onSuccess: flow.complete });
  const loginPath = `/login${flow.next !== "/" ? `?next=${encodeURIComponent(flow.next)}` : ""}`;

  if (flow.signedIn) return <Navigate to={flow.next} replace />;

  const expired = confirm.error instanceof ApiError && confirm.error.code === "no_pending_login";
  const error = expired
    ? "Your password step has expired (it lasts 5 minutes). Log in with your password again."
    : confirm.error
      ? errorMessage(confirm.error)
      : !passkeysSupported()
        ? "This browser can't use security keys at this address. Open E-Code by its domain name in a browser that supports security keys."
        : null;

  return (
    <AuthLayout
      title="Confirm it's you"
      footer={
        <Link className="text-link underline-offset-4 hover:underline" to={loginPath}>
          Back to log in
        </Link>
      }
    >
      <div className="grid gap-4">
        <p className="text-[13px] text-muted-foreground">
          Your password was right. {username ? <strong className="text-foreground">{username}</strong> : "This account"} also
          asks for a security key: when you press the button, insert or touch your key, or use the passkey on this device
          or your phone.
        </p>
        <FormError message={error} />
        {expired ? (
          <Button asChild variant="primary" size="lg">
            <Link to={loginPath}>Log in again</Link>
          </Button>
        ) : (
          <Button
            variant="primary"
            size="lg"
            autoFocus
            disabled={confirm.isPending || !passkeysSupported()}
            onClick={() => confirm.mutate()}
          >
            {confirm.isPending ? <Spinner className="text-current" /> : <KeyRound />}
            Use security key
          </Button>
        )}
      </div>
    </AuthLayout>
  );
}
