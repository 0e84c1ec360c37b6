import { queryOptions, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearchParams } from "react-router";
import { toast } from "sonner";
import { api, errorMessage, type User } from "@/lib/api";

export const meQuery = queryOptions({
  queryKey: ["me"],
  queryFn: api.me,
  staleTime: 5 * 60_000,
});

/** The signed-in user (null when signed out; undefined while loading). */
export function useMe() {
  return useQuery(meQuery);
}

/**
 * For the login and signup pages: where to go afterwards (?next=), whether the
 * visitor is signed in already, and what to do once they are.
 */
export function useSignInFlow() {
  const me = useMe();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  return {
    next,
    signedIn: Boolean(me.data),
    /** Stores the user (dropping anything cached for a previous one) and moves on. */
    complete(user: User) {
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== "me" });
      qc.setQueryData(meQuery.queryKey, user);
      navigate(next, { replace: true });
    },
  };
}

export function useLogout() {
  const qc = useQueryClient();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: api.logout,
    onSuccess: () => {
      qc.clear();
      qc.setQueryData(meQuery.queryKey, null);
      navigate("/login");
    },
    onError: (err) => toast.error("Couldn't log out", { description: errorMessage(err) }),
  });
}

/**
 * Only same-site paths are followed after login, never another origin: the same rules as the
 * server's httpx.LocalPath. Browsers read "//host", "/\host" and "/<tab>/host" as another
 * site, so the path starts with exactly one "/" and holds no backslash, whitespace or control
 * character; each percent-decoding of it must still start that way and hold no control
 * character (whoever serves it may decode it again).
 */
export function safeNext(next: string | null): string {
  if (!next || !startsLocal(next) || /[\\\s\p{Cc}]/u.test(next) || next.includes("\uFFFD")) return "/";
  let u: URL;
  try {
    u = new URL(next, "http://same.invalid");
  } catch {
    return "/";
  }
  if (u.origin !== "http://same.invalid") return "/";
  for (let s = next; ; ) {
    let d: string;
    try {
      d = decodeURIComponent(s);
    } catch {
      return "/";
    }
    if (!startsLocal(d) || /\p{Cc}/u.test(d)) return "/";
    if (d === s) return next;
    s = d;
  }
}

function startsLocal(s: string): boolean {
  if (!s.startsWith("/")) return false;
  if (s.length === 1) return true;
  return !/^[/\\\s\p{Cc}\uFFFD]/u.test(s.slice(1));
}
