import { useQuery } from "@tanstack/react-query";
import { useLocation } from "react-router";
import { api } from "@/lib/api";
import { passkeysSupported } from "./webauthn";

/**
 * Where this browser stands with passkeys: "here" (offer them), "elsewhere"
 * (they work at another address of this server, such as localhost for
 * 127.0.0.1), "off" (the server can't offer them: its message says how to
 * turn them on), "unsupported" (this browser can't), or "unknown" while asking.
 */
export type PasskeyPlace =
  | { kind: "unknown" }
  | { kind: "here" }
  | { kind: "elsewhere"; url: string; host: string }
  | { kind: "off"; message: string }
  | { kind: "unsupported" };

export function usePasskeyPlace(): PasskeyPlace {
  const location = useLocation();
  const availability = useQuery({ queryKey: ["passkey-availability"], queryFn: api.passkeyAvailability, staleTime: Infinity });
  const a = availability.data;
  if (!a) return { kind: "unknown" };
  if (!a.available) return { kind: "off", message: a.message ?? "Passkeys are not available on this server." };
  if (a.origin !== window.location.origin) {
    return { kind: "elsewhere", url: a.origin + location.pathname + location.search + location.hash, host: new URL(a.origin).host };
  }
  return passkeysSupported() ? { kind: "here" } : { kind: "unsupported" };
}

/** What to tell a person where passkeys can't be used at this address, or null where they can. */
export function PasskeyNotice({ place, className }: { place: PasskeyPlace; className?: string }) {
  if (place.kind === "elsewhere") {
    return (
      <p role="note" data-testid="passkey-notice" className={className}>
        Passkeys work at{" "}
        <a href={place.url} className="text-link underline-offset-4 hover:underline">
          {place.host}
        </a>
        , this server's address for them: browsers don't allow passkeys at an IP address. Open it there to use one.
      </p>
    );
  }
  if (place.kind === "off") {
    return (
      <p role="note" data-testid="passkey-notice" className={className}>
        Passkeys are off on this server. {place.message}
      </p>
    );
  }
  if (place.kind === "unsupported") {
    return (
      <p role="note" data-testid="passkey-notice" className={className}>
        This browser can't use passkeys or security keys here. Try a browser that supports them.
      </p>
    );
  }
  return null;
}
