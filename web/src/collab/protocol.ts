import { ChangeSet } from "@codemirror/state";
import type { Update } from "@codemirror/collab";
import type { ProjectRole } from "@/lib/api";

// The collaboration messages on the workspace socket (see lib/socket.ts),
// as the Go server (internal/collab) speaks them: documents follow
// @codemirror/collab's push/receive model, with the server as the authority;
// presence says who is here, which file each has open and where their
// selection is.

/** A ChangeSet as ChangeSet.toJSON writes it: n keeps n, [n] deletes n, [n, ...lines] replaces n with lines. */
export type ChangeSetJSON = (number | (number | string)[])[];

/** One accepted (or to-be-pushed) change; clientID "server" marks a change made on disk (a run, the agent). */
export interface WireUpdate {
  clientID: string;
  changes: ChangeSetJSON;
}

/** Identifies one life of a document on the server; versions only compare within one epoch. */
export type Epoch = string | number;

export interface WireSelection {
  anchor: number;
  head: number;
}

/** Another tab in the project (the same person's other tabs included). */
export interface Peer {
  id: string;
  userId: string;
  username: string;
  color: string;
  file: string | null;
  selection: WireSelection | null;
  role: ProjectRole;
}

export type CollabClientMessage =
  | { type: "doc.open"; path: string; version?: number; epoch?: Epoch }
  | { type: "doc.push"; path: string; version: number; updates: WireUpdate[] }
  | { type: "doc.close"; path: string }
  | { type: "presence.update"; file: string | null; selection: WireSelection | null };

/**
 * doc.opened carries text (a fresh start) or else is a catch-up since the
 * version the client sent, with the updates it missed (left out when none).
 */
export interface DocOpened {
  type: "doc.opened";
  path: string;
  version: number;
  epoch: Epoch;
  readOnly: boolean;
  text?: string;
  updates?: WireUpdate[];
}

export type CollabServerMessage =
  | DocOpened
  | { type: "doc.update"; path: string; version: number; updates?: WireUpdate[] }
  | { type: "doc.rejected"; path: string; version: number }
  | { type: "doc.renamed"; path: string; to: string }
  | { type: "doc.deleted"; path: string }
  | { type: "files.changed" }
  | { type: "presence"; peers?: Peer[] }
  | { type: "presence.self"; id: string };

export const collabServerTypes = [
  "doc.opened",
  "doc.update",
  "doc.rejected",
  "doc.renamed",
  "doc.deleted",
  "files.changed",
  "presence",
  "presence.self",
] as const satisfies readonly CollabServerMessage["type"][];

/** Updates off the wire; throws (RangeError) on a malformed change set. */
export function fromWire(updates: readonly WireUpdate[]): Update[] {
  return updates.map((u) => ({ clientID: u.clientID, changes: ChangeSet.fromJSON(u.changes) }));
}

export function toWire(updates: readonly Update[]): WireUpdate[] {
  return updates.map((u) => ({ clientID: u.clientID, changes: u.changes.toJSON() as ChangeSetJSON }));
}
