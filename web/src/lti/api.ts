// LTI 1.3: the LMS platforms an administrator registers, and the deep-linking
// page where a teacher picks assignments to place in an LMS course.

import { request } from "@/lib/api";
import type { components } from "@/lib/schema.gen";

type Schemas = components["schemas"];

export type LtiPlatform = Schemas["LtiPlatform"];
export type LtiPlatformInput = Schemas["LtiPlatformInput"];
/** The tool's URLs, to paste into the LMS's registration form. */
export type LtiTool = Schemas["LtiTool"];

export interface DeepLinkRequest {
  course: { id: string; name: string };
  assignments: { id: string; title: string }[];
  returnUrl: string;
}

const deepLinkPath = (token: string) => `/api/lti/deep-link/${encodeURIComponent(token)}`;

export const ltiApi = {
  platforms: () => request<{ platforms: LtiPlatform[]; tool: LtiTool }>("GET", "/api/admin/lti/platforms"),
  addPlatform: (input: LtiPlatformInput) =>
    request<{ platform: LtiPlatform }>("POST", "/api/admin/lti/platforms", { json: input }).then((r) => r.platform),
  removePlatform: (id: string) => request<void>("DELETE", `/api/admin/lti/platforms/${encodeURIComponent(id)}`),
  /** A new signing key; the old one stays published a while, so messages in flight still verify. */
  rotateKey: () => request<{ kid: string }>("POST", "/api/admin/lti/keys/rotate").then((r) => r.kid),
  deepLink: (token: string) => request<DeepLinkRequest>("GET", deepLinkPath(token)),
  /** The signed response; the browser posts jwt to returnUrl as the form field JWT. */
  answerDeepLink: (token: string, assignmentIds: string[]) =>
    request<{ returnUrl: string; jwt: string }>("POST", deepLinkPath(token), { json: { assignmentIds } }),
};

export const ltiKeys = {
  platforms: ["lti", "platforms"] as const,
  deepLink: (token: string) => ["lti", "deep-link", token] as const,
};
