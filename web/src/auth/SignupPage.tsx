import { useMutation } from "@tanstack/react-query";
import { useState, type ChangeEvent, type FormEvent } from "react";
import { Link, Navigate } from "react-router";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Spinner } from "@/components/ui/spinner";
import { api, ApiError, errorMessage } from "@/lib/api";
import { AuthLayout, FormError } from "./AuthLayout";
import { ProviderButtons } from "./ProviderButtons";
import { useSignInFlow } from "./session";

type Fields = { username: string; email: string; password: string };
type Errors = Partial<Record<keyof Fields, string>>;

// Mirrors the server's rules so most mistakes are caught before a round trip.
function validate(f: Fields): Errors {
  const errors: Errors = {};
  const username = f.username.trim().toLowerCase();
  if (!/^[a-z0-9_-]{3,32}$/.test(username)) {
    errors.username = "Use 3–32 characters: lowercase letters, digits, “-” or “_”.";
  }
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(f.email.trim())) errors.email = "Enter a valid email address.";
  if (f.password.length < 8) errors.password = "Use at least 8 characters.";
  return errors;
}

// Server error codes that belong to one field are shown beside it.
const fieldForCode: Record<string, keyof Fields> = {
  username_taken: "username",
  invalid_username: "username",
  email_taken: "email",
  invalid_email: "email",
  weak_password: "password",
};

export function SignupPage() {
  const flow = useSignInFlow();
  const [fields, setFields] = useState<Fields>({ username: "", email: "", password: "" });
  const [errors, setErrors] = useState<Errors>({});
  const [formError, setFormError] = useState<string | null>(null);

  const mutation = useMutation({
    mutationFn: () => api.signup(fields.username.trim().toLowerCase(), fields.email.trim(), fields.password),
    onSuccess: flow.complete,
    onError: (err) => {
      const field = err instanceof ApiError ? fieldForCode[err.code] : undefined;
      if (field) setErrors({ [field]: err.message });
      else setFormError(errorMessage(err));
    },
  });

  if (flow.signedIn) return <Navigate to={flow.next} replace />;

  function submit(e: FormEvent) {
    e.preventDefault();
    const found = validate(fields);
    setErrors(found);
    setFormError(null);
    if (Object.keys(found).length === 0) mutation.mutate();
  }

  const set = (key: keyof Fields) => (e: ChangeEvent<HTMLInputElement>) => {
    setFields((f) => ({ ...f, [key]: e.target.value }));
    setErrors((prev) => ({ ...prev, [key]: undefined }));
  };

  return (
    <AuthLayout
      title="Create your account"
      footer={
        <>
          Already have an account?{" "}
          <Link className="text-link underline-offset-4 hover:underline" to={`/login${flow.next !== "/" ? `?next=${encodeURIComponent(flow.next)}` : ""}`}>
            Log in
          </Link>
        </>
      }
    >
      <ProviderButtons next={flow.next} />
      <form className="grid gap-4" onSubmit={submit} noValidate>
        <FormError message={formError} />
        <Field
          label="Username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          autoFocus
          value={fields.username}
          error={errors.username}
          hint="Lowercase letters, digits, “-” and “_”. It appears in your project URLs."
          onChange={set("username")}
        />
        <Field
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          value={fields.email}
          error={errors.email}
          onChange={set("email")}
        />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          value={fields.password}
          error={errors.password}
          hint="At least 8 characters."
          onChange={set("password")}
        />
        <Button type="submit" variant="primary" size="lg" disabled={mutation.isPending}>
          {mutation.isPending && <Spinner className="text-current" />}
          Create account
        </Button>
      </form>
    </AuthLayout>
  );
}
