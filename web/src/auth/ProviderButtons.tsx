import { queryOptions, useQuery } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode, type SVGProps } from "react";
import { useSearchParams } from "react-router";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { api } from "@/lib/api";
import { FormError } from "./AuthLayout";

export const providersQuery = queryOptions({
  queryKey: ["auth-providers"],
  queryFn: api.providers,
  staleTime: 5 * 60_000,
});

/**
 * "Continue with GitHub" and friends, for the providers this server offers, with an "or"
 * line before what follows. Nothing at all when none is enabled.
 */
export function ProviderButtons({ next }: { next: string }) {
  const providers = useQuery(providersQuery);
  const [going, setGoing] = useState<string | null>(null);

  // Coming back with the Back button restores the page as it was left: spinning.
  useEffect(() => {
    const reset = (e: PageTransitionEvent) => e.persisted && setGoing(null);
    window.addEventListener("pageshow", reset);
    return () => window.removeEventListener("pageshow", reset);
  }, []);

  if (!providers.data?.length) return null;
  return (
    <div className="mb-4 grid gap-2">
      {providers.data.map((p) => (
        <Button key={p.id} asChild variant="outline" size="lg">
          <a
            href={api.providerStartUrl(p.id, { next })}
            aria-disabled={going !== null || undefined}
            onClick={(e) => {
              if (going) e.preventDefault();
              else setGoing(p.id);
            }}
          >
            {going === p.id ? <Spinner className="text-current" /> : <ProviderIcon provider={p.id} />}
            Continue with {p.name}
          </a>
        </Button>
      ))}
      <div className="mt-2 flex items-center gap-3 text-xs text-muted-foreground" aria-hidden>
        <span className="h-px flex-1 bg-border" />
        or
        <span className="h-px flex-1 bg-border" />
      </div>
    </div>
  );
}

/** Display names, for messages about a provider whether or not it is still offered. */
export const providerNames: Record<string, string> = {
  github: "GitHub",
  google: "Google",
  gitlab: "GitLab",
  bitbucket: "Bitbucket",
  discord: "Discord",
  slack: "Slack",
  azuread: "Microsoft",
};

/** What a provider login or link error (?error=CODE&provider=ID) means, in plain words. */
export function providerErrorMessage(code: string, provider: string | null): string {
  const name = (provider && providerNames[provider]) || "the provider";
  switch (code) {
    case "oauth_denied":
      return `Signing in with ${name} was cancelled.`;
    case "oauth_state":
      return `That sign-in with ${name} expired or was started in another browser. Try again.`;
    case "oauth_failed":
      return `${name} didn't confirm the sign-in. Try again.`;
    case "provider_unavailable":
      return `E-Code couldn't reach ${name}. Try again in a minute.`;
    case "email_exists":
    case "email_taken":
      return `An E-Code account already uses the email of your ${name} account. Log in with your password, then link ${name} in Settings → Linked accounts.`;
    case "email_unverified":
      return `${name} hasn't verified your email address, so E-Code can't use it. Verify it at ${name} and try again, or create an account with an email and password.`;
    case "signup_disabled":
      return "Sign-up is closed on this server; ask an administrator for an account.";
    case "account_disabled":
      return "This account is disabled; ask an administrator.";
    case "identity_taken":
      return `This ${name} account is already linked to another E-Code account. Log in to that account to unlink it first.`;
    case "already_linked":
      return `You've already linked a ${name} account. Unlink it first to link a different one.`;
    case "unauthenticated":
      return `Your session ended while linking ${name}. Log in again, then link it.`;
    default:
      return `Signing in with ${name} didn't work. Try again.`;
  }
}

/** The error a provider sent the browser back with (?error=&provider=), if any. */
export function ProviderError({ className }: { className?: string }) {
  const [params] = useSearchParams();
  const code = params.get("error");
  if (!code) return null;
  return (
    <div className={className ?? "mb-4"}>
      <FormError message={providerErrorMessage(code, params.get("provider"))} />
    </div>
  );
}

type IconProps = SVGProps<SVGSVGElement>;

function Svg({ children, viewBox = "0 0 24 24", ...props }: IconProps & { children: ReactNode }) {
  return (
    <svg viewBox={viewBox} width="16" height="16" aria-hidden="true" focusable="false" {...props}>
      {children}
    </svg>
  );
}

/** A provider's brand mark, decorative: its name is always written beside it. */
export function ProviderIcon({ provider, ...props }: { provider: string } & IconProps) {
  const Icon = icons[provider];
  return Icon ? <Icon {...props} /> : null;
}

const icons: Record<string, (props: IconProps) => ReactNode> = {
  github: GitHubMark,
  google: GoogleMark,
  gitlab: GitLabMark,
  bitbucket: BitbucketMark,
  discord: DiscordMark,
  slack: SlackMark,
  azuread: MicrosoftMark,
};

function GitHubMark(props: IconProps) {
  return (
    <Svg {...props}>
      <path
        fill="currentColor"
        d="M12 .3a12 12 0 0 0-3.8 23.38c.6.12.83-.26.83-.57v-2.04c-3.34.73-4.04-1.61-4.04-1.61-.55-1.39-1.34-1.76-1.34-1.76-1.09-.74.08-.73.08-.73 1.2.09 1.84 1.24 1.84 1.24 1.07 1.83 2.8 1.3 3.49 1 .1-.78.42-1.31.76-1.61-2.66-.3-5.47-1.33-5.47-5.93 0-1.31.47-2.38 1.24-3.22-.14-.3-.54-1.52.1-3.18 0 0 1.01-.32 3.3 1.23a11.5 11.5 0 0 1 6 0c2.28-1.55 3.29-1.23 3.29-1.23.64 1.66.24 2.88.12 3.18a4.65 4.65 0 0 1 1.23 3.22c0 4.61-2.8 5.63-5.48 5.92.43.37.82 1.1.82 2.22v3.29c0 .32.21.69.82.57A12 12 0 0 0 12 .3"
      />
    </Svg>
  );
}

function GoogleMark(props: IconProps) {
  return (
    <Svg viewBox="0 0 48 48" {...props}>
      <path fill="#EA4335" d="M24 9.5c3.54 0 6.71 1.22 9.21 3.6l6.85-6.85C35.9 2.38 30.47 0 24 0 14.62 0 6.51 5.38 2.56 13.22l7.98 6.19C12.43 13.72 17.74 9.5 24 9.5z" />
      <path fill="#4285F4" d="M46.98 24.55c0-1.57-.15-3.09-.38-4.55H24v9.02h12.94c-.58 2.96-2.26 5.48-4.78 7.18l7.73 6c4.51-4.18 7.09-10.36 7.09-17.65z" />
      <path fill="#FBBC05" d="M10.53 28.59c-.48-1.45-.76-2.99-.76-4.59s.27-3.14.76-4.59l-7.98-6.19C.92 16.46 0 20.12 0 24c0 3.88.92 7.54 2.56 10.78l7.97-6.19z" />
      <path fill="#34A853" d="M24 48c6.48 0 11.93-2.13 15.89-5.81l-7.73-6c-2.15 1.45-4.92 2.3-8.16 2.3-6.26 0-11.57-4.22-13.47-9.91l-7.98 6.19C6.51 42.62 14.62 48 24 48z" />
    </Svg>
  );
}

/** The tanuki: a fox's head of seven facets. */
function GitLabMark(props: IconProps) {
  return (
    <Svg {...props}>
      <path fill="#E24329" d="M12 22 16.42 8.4H7.58z" />
      <path fill="#FC6D26" d="M12 22 7.58 8.4H1.39zM12 22l4.42-13.6h6.19z" />
      <path fill="#FCA326" d="M1.39 8.4.05 12.52a.91.91 0 0 0 .33 1.02L12 22zM22.61 8.4l1.34 4.12a.91.91 0 0 1-.33 1.02L12 22z" />
      <path fill="#E24329" d="M1.39 8.4h6.19L4.92.2a.46.46 0 0 0-.87 0zM22.61 8.4h-6.19L19.08.2a.46.46 0 0 1 .87 0z" />
    </Svg>
  );
}

/** A bucket seen from the side, with a diamond cut out. */
function BitbucketMark(props: IconProps) {
  return (
    <Svg {...props}>
      <path
        fill="#2684FF"
        fillRule="evenodd"
        d="M.78 1.2a.77.77 0 0 0-.77.9l3.26 19.8c.08.5.52.87 1.03.87h15.6a.77.77 0 0 0 .77-.65L23.99 2.1a.77.77 0 0 0-.77-.9zm13.7 14.3H9.52L8.16 8.47h7.54z"
      />
    </Svg>
  );
}

/** Clyde: a rounded head with two eyes. */
function DiscordMark(props: IconProps) {
  return (
    <Svg {...props}>
      <path
        fill="#5865F2"
        d="M20.32 4.37A19.8 19.8 0 0 0 15.43 2.85l-.62 1.28a18.3 18.3 0 0 0-5.62 0l-.63-1.28a19.7 19.7 0 0 0-4.89 1.52C.57 9.05-.27 13.6.1 18.1a19.9 19.9 0 0 0 6 3.03l1.29-2.1a12.9 12.9 0 0 1-2.03-.97l.5-.39a14.2 14.2 0 0 0 12.28 0l.5.39c-.65.38-1.33.71-2.04.97l1.29 2.1a19.8 19.8 0 0 0 6-3.03c.5-5.22-.84-9.73-3.57-13.73zM8.02 15.33c-1.18 0-2.16-1.08-2.16-2.42s.96-2.42 2.16-2.42c1.21 0 2.18 1.1 2.16 2.42 0 1.34-.96 2.42-2.16 2.42zm7.97 0c-1.18 0-2.15-1.08-2.15-2.42s.95-2.42 2.15-2.42c1.21 0 2.18 1.1 2.16 2.42 0 1.34-.95 2.42-2.16 2.42z"
      />
    </Svg>
  );
}

/** Four bars and four dots turning around the centre. */
function SlackMark(props: IconProps) {
  return (
    <Svg {...props}>
      <rect fill="#36C5F0" x="2" y="7" width="10.5" height="3.5" rx="1.75" />
      <rect fill="#36C5F0" x="7" y="2" width="3.5" height="3.5" rx="1.75" />
      <rect fill="#2EB67D" x="13.5" y="2" width="3.5" height="10.5" rx="1.75" />
      <rect fill="#2EB67D" x="18.5" y="7" width="3.5" height="3.5" rx="1.75" />
      <rect fill="#ECB22E" x="11.5" y="13.5" width="10.5" height="3.5" rx="1.75" />
      <rect fill="#ECB22E" x="13.5" y="18.5" width="3.5" height="3.5" rx="1.75" />
      <rect fill="#E01E5A" x="7" y="11.5" width="3.5" height="10.5" rx="1.75" />
      <rect fill="#E01E5A" x="2" y="13.5" width="3.5" height="3.5" rx="1.75" />
    </Svg>
  );
}

function MicrosoftMark(props: IconProps) {
  return (
    <Svg viewBox="0 0 23 23" {...props}>
      <rect fill="#F25022" x="1" y="1" width="10" height="10" />
      <rect fill="#7FBA00" x="12" y="1" width="10" height="10" />
      <rect fill="#00A4EF" x="1" y="12" width="10" height="10" />
      <rect fill="#FFB900" x="12" y="12" width="10" height="10" />
    </Svg>
  );
}
