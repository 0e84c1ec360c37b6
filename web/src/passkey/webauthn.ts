// The browser's side of WebAuthn: turning the server's JSON options into a
// prompt for a security key or passkey, and its answer back into JSON. The
// JSON helpers of PublicKeyCredential are used where the browser has them,
// a few base64url conversions where it does not.

import {
  ApiError,
  api,
  errorMessage,
  type PasskeyCredentialJSON,
  type PasskeyCreationOptions,
  type PasskeyRequestOptions,
  type User,
} from "@/lib/api";

/** An IPv4 or IPv6 address: browsers refuse passkeys on one. */
function isIPAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":") || host.startsWith("[");
}

/** Whether this browser, at this address, can use security keys and passkeys. */
export function passkeysSupported(): boolean {
  return (
    typeof window !== "undefined" &&
    typeof window.PublicKeyCredential === "function" &&
    window.isSecureContext &&
    !isIPAddress(window.location.hostname)
  );
}

function fromBase64url(s: string): ArrayBuffer {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64.padEnd(Math.ceil(b64.length / 4) * 4, "="));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
}

function toBase64url(buf: ArrayBuffer | null): string | undefined {
  if (!buf) return undefined;
  let bin = "";
  for (const byte of new Uint8Array(buf)) bin += String.fromCharCode(byte);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const descriptors = (list?: PublicKeyCredentialDescriptorJSON[]): PublicKeyCredentialDescriptor[] | undefined =>
  list?.map((d) => ({ type: "public-key", id: fromBase64url(d.id), transports: d.transports as AuthenticatorTransport[] }));

function creationOptions(o: PublicKeyCredentialCreationOptionsJSON): PublicKeyCredentialCreationOptions {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
    return PublicKeyCredential.parseCreationOptionsFromJSON(o);
  }
  return {
    ...o,
    challenge: fromBase64url(o.challenge),
    user: { ...o.user, id: fromBase64url(o.user.id) },
    excludeCredentials: descriptors(o.excludeCredentials),
  } as PublicKeyCredentialCreationOptions;
}

function requestOptions(o: PublicKeyCredentialRequestOptionsJSON): PublicKeyCredentialRequestOptions {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
    return PublicKeyCredential.parseRequestOptionsFromJSON(o);
  }
  return {
    ...o,
    challenge: fromBase64url(o.challenge),
    allowCredentials: descriptors(o.allowCredentials),
  } as PublicKeyCredentialRequestOptions;
}

function toJSON(cred: PublicKeyCredential): PasskeyCredentialJSON {
  if (typeof cred.toJSON === "function") return cred.toJSON() as PasskeyCredentialJSON;
  const r = cred.response;
  const response =
    r instanceof AuthenticatorAttestationResponse
      ? {
          clientDataJSON: toBase64url(r.clientDataJSON),
          attestationObject: toBase64url(r.attestationObject),
          transports: r.getTransports?.() ?? [],
        }
      : {
          clientDataJSON: toBase64url(r.clientDataJSON),
          authenticatorData: toBase64url((r as AuthenticatorAssertionResponse).authenticatorData),
          signature: toBase64url((r as AuthenticatorAssertionResponse).signature),
          userHandle: toBase64url((r as AuthenticatorAssertionResponse).userHandle),
        };
  return {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: cred.type,
    authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
    clientExtensionResults: cred.getClientExtensionResults(),
    response,
  };
}

/** The browser's errors in plain words; the server's pass through. */
export function passkeyError(err: unknown): Error {
  if (err instanceof ApiError || !(err instanceof DOMException)) return new Error(errorMessage(err));
  switch (err.name) {
    case "NotAllowedError":
      return new Error("The security key prompt was closed or timed out before a key answered. Try again when your key is ready.");
    case "InvalidStateError":
      return new Error("This security key is registered to your account already.");
    case "SecurityError":
      return new Error("This browser doesn't allow security keys at this address. Open E-Code by its domain name and try again.");
    case "AbortError":
      return new Error("The security key prompt was cancelled. Try again.");
    case "NotSupportedError":
      return new Error("This security key can't make the kind of key E-Code asks for. Try another key or a passkey.");
    default:
      return new Error(`The security key didn't answer (${err.message || err.name}). Try again.`);
  }
}

async function create(options: PasskeyCreationOptions): Promise<PasskeyCredentialJSON> {
  const cred = await navigator.credentials.create({ publicKey: creationOptions(options.publicKey) });
  if (!(cred instanceof PublicKeyCredential)) throw new Error("The browser returned no security key. Try again.");
  return toJSON(cred);
}

async function get(options: PasskeyRequestOptions): Promise<PasskeyCredentialJSON> {
  const cred = await navigator.credentials.get({ publicKey: requestOptions(options.publicKey) });
  if (!(cred instanceof PublicKeyCredential)) throw new Error("The browser returned no security key. Try again.");
  return toJSON(cred);
}

/** Runs a ceremony, turning any failure into a message a person can act on. */
async function ceremony<T>(steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (err) {
    throw err instanceof ApiError ? err : passkeyError(err);
  }
}

/** Asks the browser for a new key named name and registers it to the signed-in account. */
export const registerPasskey = (name: string) =>
  ceremony(async () => api.finishPasskeyRegistration(await create(await api.beginPasskeyRegistration(name))));

/** Logs in with a passkey the browser or a key keeps: no username or password. */
export const loginWithPasskey = (): Promise<User> =>
  ceremony(async () => api.finishPasskeyLogin(await get(await api.beginPasskeyLogin())));

/** Completes a login whose password was right with one of the account's keys. */
export const confirmSecondFactor = (): Promise<User> =>
  ceremony(async () => api.finishSecondFactor(await get(await api.beginSecondFactor())));
