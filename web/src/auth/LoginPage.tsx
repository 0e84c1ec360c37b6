import { useMutation } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, Navigate, useNavigate } from "react-router";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { api, errorMessage } from "@/lib/api";
import { AuthLayout, FormError } from "./AuthLayout";
import { PasskeyLogin } from "./PasskeyLogin";
import { ProviderButtons, ProviderError } from "./ProviderButtons";
import { secondFactorPath } from "./SecondFactorPage";
import { useSignInFlow } from "./session";

export function LoginPage() {
  const flow = useSignInFlow();
  const navigate = useNavigate();
  const [login, setLogin] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<{ login?: string; password?: string }>({});

  const mutation = useMutation({
    mutationFn: () => api.login(login.trim(), password),
    onSuccess: (res) => {
      if (res.user) return flow.complete(res.user);
      // The password was right; the account's security key is asked next.
      const next = flow.next !== "/" ? `?next=${encodeURIComponent(flow.next)}` : "";
      navigate(secondFactorPath + next, { state: { username: res.username } });
    },
  });

  if (flow.signedIn) return <Navigate to={flow.next} replace />;

  function submit(e: FormEvent) {
    e.preventDefault();
    const found = {
      login: login.trim() ? undefined : "Enter your username or email.",
      password: password ? undefined : "Enter your password.",
    };
    setErrors(found);
    if (!found.login && !found.password) mutation.mutate();
  }

  return (
    <AuthLayout
      title="Log in to E-Code"
      footer={
        <>
          New here?{" "}
          <Link className="text-link underline-offset-4 hover:underline" to={`/signup${flow.next !== "/" ? `?next=${encodeURIComponent(flow.next)}` : ""}`}>
            Create an account
          </Link>
        </>
      }
    >
      <ProviderError />
      <ProviderButtons next={flow.next} />
      <form className="grid gap-4" onSubmit={submit} noValidate>
        <FormError message={mutation.error ? errorMessage(mutation.error) : null} />
        <Field
          label="Username or email"
          name="login"
          autoComplete="username"
          autoFocus
          value={login}
          error={errors.login}
          onChange={(e) => setLogin(e.target.value)}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          error={errors.password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <Button type="submit" variant="primary" size="lg" disabled={mutation.isPending}>
          {mutation.isPending && <Spinner className="text-current" />}
          Log in
        </Button>
      </form>
      <PasskeyLogin onSignedIn={flow.complete} />
    </AuthLayout>
  );
}
