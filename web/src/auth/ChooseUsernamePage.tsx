import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { api, ApiError, errorMessage } from "@/lib/api";
import { AuthLayout, FormError } from "./AuthLayout";
import { ProviderIcon, providerNames } from "./ProviderButtons";
import { meQuery, safeNext, useMe } from "./session";

export const chooseUsernamePath = "/signup/username";

/**
 * The last step of signing up through a provider whose username is taken here (or can't be
 * one): the server keeps the provider's answer for a few minutes while the person picks a name.
 */
export function ChooseUsernamePage() {
  const me = useMe();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const provider = params.get("provider") ?? "";
  const name = providerNames[provider] ?? "your provider";
  const taken = params.get("taken");
  const [username, setUsername] = useState("");
  const [fieldError, setFieldError] = useState<string | null>(null);

  const finish = useMutation({
    mutationFn: () => api.finishProviderSignup(username.trim().toLowerCase()),
    onSuccess: ({ user, next }) => {
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== "me" });
      qc.setQueryData(meQuery.queryKey, user);
      navigate(safeNext(next), { replace: true });
    },
    onError: (err) => {
      if (err instanceof ApiError && (err.code === "username_taken" || err.code === "invalid_username")) {
        setFieldError(err.message);
      }
    },
  });

  // Signed in already, or just now: on to where the sign-up was going.
  if (me.data) return <Navigate to={safeNext(finish.data?.next ?? "/")} replace />;

  function submit(e: FormEvent) {
    e.preventDefault();
    const value = username.trim().toLowerCase();
    const problem = /^[a-z0-9][a-z0-9_-]{2,31}$/.test(value)
      ? null
      : "Use 3–32 characters: lowercase letters, digits, “-” or “_”, starting with a letter or digit.";
    setFieldError(problem);
    if (!problem) finish.mutate();
  }

  const expired = finish.error instanceof ApiError && finish.error.code === "no_pending_signup";
  const formError = finish.error && !fieldError ? errorMessage(finish.error) : null;

  return (
    <AuthLayout
      title="Choose a username"
      footer={
        <>
          Changed your mind?{" "}
          <Link className="text-link underline-offset-4 hover:underline" to="/login">
            Back to log in
          </Link>
        </>
      }
    >
      <p className="mb-4 flex items-start gap-2 text-[13px] text-muted-foreground">
        <ProviderIcon provider={provider} className="mt-0.5 shrink-0" />
        <span>
          You're signing up with {name}.{" "}
          {taken
            ? `The username “${taken}” is already taken on E-Code, so pick another one.`
            : "Pick the name you'll go by on E-Code."}
        </span>
      </p>
      <form className="grid gap-4" onSubmit={submit} noValidate>
        <FormError message={formError} />
        {expired && (
          <Button asChild variant="outline">
            <Link to="/login">Start again</Link>
          </Button>
        )}
        <Field
          label="Username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          autoFocus
          value={username}
          error={fieldError}
          hint="Lowercase letters, digits, “-” and “_”. It appears in your project URLs."
          onChange={(e) => {
            setUsername(e.target.value);
            setFieldError(null);
          }}
        />
        <Button type="submit" variant="primary" size="lg" disabled={finish.isPending}>
          {finish.isPending && <Spinner className="text-current" />}
          Create account
        </Button>
      </form>
    </AuthLayout>
  );
}
