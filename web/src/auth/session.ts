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

/** Only same-site paths are followed after login, never another origin. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
