// The other side of codemirror_test.go: the real @codemirror/state and
// @codemirror/collab (from web/node_modules), driven at random from a seed.
//
//   node codemirror.mjs <web dir> ops <seed> <cases>
//     prints one case a line: random change sets and what CodeMirror makes
//     of them (map, mapDesc, compose, composeDesc, mapPos).
//   node codemirror.mjs <web dir> sim <seed> <steps>
//     editors that type, push (late, twice), and receive updates in random
//     batches (applied one update at a time, as web/src/collab/live.ts
//     does), with the Go test as their authority: each request is a JSON
//     line on stdout, each answer a line on stdin. A reference authority
//     running CodeMirror's rebaseUpdates over one accepted update at a time
//     checks every answer; in the end every editor must hold the
//     authority's text.

import { createInterface } from "node:readline";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [web, mode, seedArg, countArg] = process.argv.slice(2);
const load = (pkg) => import(pathToFileURL(join(web, "node_modules", pkg, "dist", "index.js")).href);
const { ChangeSet, EditorState, Text } = await load("@codemirror/state");
const { collab, getSyncedVersion, rebaseUpdates, receiveUpdates, sendableUpdates } = await load("@codemirror/collab");

// mulberry32: a small seeded generator, so a failing seed replays.
let state = Number(seedArg) >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(random() * n);
const pick = (list) => list[int(list.length)];

const apply = (set, doc) => set.apply(Text.of(doc.split("\n"))).toString();

const pieces = ["a", "bc", "😀", "\n", "é", "🎉x", "\n\n", "wörd ", "", "xyz\nq"];

/** A random position in doc (a string) that does not split a surrogate pair. */
function position(doc) {
  let pos = int(doc.length + 1);
  const unit = doc.charCodeAt(pos);
  if (pos > 0 && unit >= 0xdc00 && unit <= 0xdfff) pos--;
  return pos;
}

/** A random change of doc: one to four ranges, in any order (they may overlap: ChangeSet.of maps them). */
function randomChanges(doc) {
  const specs = [];
  for (let n = 1 + int(4); n > 0; n--) {
    let from = position(doc);
    let to = random() < 0.5 ? from : position(doc);
    if (to < from) [from, to] = [to, from];
    specs.push({ from, to, insert: random() < 0.25 && to > from ? "" : pick(pieces) });
  }
  return specs;
}

/** A random change set of doc, sometimes composed of two so its sections are cut in less plain ways. */
function randomSet(doc) {
  const set = ChangeSet.of(randomChanges(doc), doc.length);
  if (random() < 0.3) return set;
  const after = apply(set, doc);
  return set.compose(ChangeSet.of(randomChanges(after), after.length));
}

function randomDoc() {
  let doc = "";
  for (let n = int(8); n > 0; n--) doc += pick(pieces);
  return doc;
}

class Failure extends Error {}
function fail(message) {
  throw new Failure(message);
}

const toWire = (updates) => updates.map((u) => ({ clientID: u.clientID, changes: u.changes.toJSON() }));
const fromWire = (updates) => updates.map((u) => ({ clientID: u.clientID, changes: ChangeSet.fromJSON(u.changes) }));

// CM_TRACE=1 tells every step of a simulation on stderr (the test's log).
const trace = process.env.CM_TRACE ? (...what) => console.error(...what) : () => {};

/** Prints cases lines of random change sets with what CodeMirror makes of them. */
function ops(cases) {
  for (let i = 0; i < cases; i++) {
    const doc = randomDoc();
    const a = randomSet(doc);
    const b = randomSet(doc);
    const c = randomSet(apply(a, doc));
    const positions = [];
    for (let pos = 0; pos <= doc.length; pos++) {
      for (const assoc of [-1, 1]) positions.push([pos, assoc, a.mapPos(pos, assoc)]);
    }
    const line = {
      a: a.toJSON(),
      b: b.toJSON(),
      c: c.toJSON(),
      map: a.map(b).toJSON(),
      mapBefore: a.map(b, true).toJSON(),
      mapDesc: a.desc.mapDesc(b.desc).toJSON(),
      mapDescBefore: a.desc.mapDesc(b.desc, true).toJSON(),
      compose: a.compose(c).toJSON(),
      composeDesc: a.desc.composeDesc(c.desc).toJSON(),
      positions,
    };
    process.stdout.write(JSON.stringify(line) + "\n");
  }
}

/** One simulation; lines are the Go test's answers. */
async function simulate(lines, steps) {
  async function ask(request) {
    process.stdout.write(JSON.stringify(request) + "\n");
    const { value, done } = await lines.next();
    if (done) fail("the test went away");
    return JSON.parse(value);
  }

  // The reference authority: what a server written with @codemirror/collab does.
  const start = randomDoc();
  const ref = { doc: start, log: [] };
  await ask({ op: "start", text: start });

  const editors = [];
  for (let i = 2 + int(3); i > 0; i--) {
    const id = `e${editors.length}`;
    editors.push({
      id,
      state: EditorState.create({ doc: start, extensions: [collab({ startVersion: 0, clientID: id })] }),
      outbox: [], // pushes sent and not yet at the server, in order
    });
  }
  const stats = { pushes: 0, rebased: 0, edits: 0 };

  function edit(e) {
    e.state = e.state.update({ changes: randomChanges(e.state.doc.toString()) }).state;
    stats.edits++;
    trace(e.id, "edits", JSON.stringify(e.state.doc.toString()), "unconfirmed", JSON.stringify(toWire(sendableUpdates(e.state))));
  }

  /** Sends the editor's unconfirmed updates (or the first few) at its synced version; they arrive later. */
  function send(e, all) {
    const pending = sendableUpdates(e.state);
    if (pending.length === 0) return;
    const n = all ? pending.length : 1 + int(pending.length);
    e.outbox.push({ version: getSyncedVersion(e.state), updates: toWire(pending.slice(0, n)) });
    trace(e.id, "sends", JSON.stringify(e.outbox.at(-1)));
  }

  async function deliver(e) {
    const push = e.outbox.shift();
    const reply = await ask({ op: "push", version: push.version, updates: push.updates });
    if (reply.error) fail(`a push at version ${push.version} of ${JSON.stringify(push.updates)} was refused: ${reply.error}`);
    if (reply.rejected) fail(`a push at version ${push.version} was rejected with ${ref.log.length} updates kept`);
    // rebaseUpdates over one accepted update at a time: the editors receive them one at a time (as live.ts does).
    const over = ref.log.slice(push.version);
    let accepted = fromWire(push.updates);
    for (const o of over) accepted = rebaseUpdates(accepted, [o]);
    const want = toWire(accepted);
    trace(e.id, "push arrives", JSON.stringify(push), "accepted", JSON.stringify(want));
    if (JSON.stringify(reply.accepted) !== JSON.stringify(want)) {
      fail(
        `push at ${push.version} of ${JSON.stringify(push.updates)} over ${JSON.stringify(toWire(over))}:\n` +
          `  accepted ${JSON.stringify(reply.accepted)}\n  CodeMirror's rebaseUpdates, one update at a time: ${JSON.stringify(want)}`,
      );
    }
    for (const u of accepted) ref.doc = apply(u.changes, ref.doc);
    ref.log.push(...accepted);
    stats.pushes++;
    if (over.length > 0) stats.rebased++;
  }

  /** The editor receives some (or all) of the updates it has not seen, from the Go authority, one at a time as live.ts does. */
  async function receive(e, all) {
    const { updates } = await ask({ op: "pull", from: getSyncedVersion(e.state) });
    if (updates.length === 0) return;
    const n = all ? updates.length : 1 + int(updates.length);
    for (const u of fromWire(updates.slice(0, n))) e.state = receiveUpdates(e.state, [u]).state;
    trace(e.id, "receives", JSON.stringify(updates.slice(0, n)), "now", JSON.stringify(e.state.doc.toString()));
  }

  for (let step = 0; step < steps; step++) {
    const e = pick(editors);
    const r = random();
    if (r < 0.35) edit(e);
    else if (r < 0.55) {
      // One push at a time, as the web client does, or now and then another (its timeout resending it).
      if (e.outbox.length === 0 || random() < 0.2) send(e, false);
    } else if (r < 0.8) {
      if (e.outbox.length > 0) await deliver(e);
    } else await receive(e, false);
  }

  // Quiet down: everything in flight arrives, then each editor catches up and pushes what is left.
  for (const e of editors) while (e.outbox.length > 0) await deliver(e);
  const busy = (e) => sendableUpdates(e.state).length > 0 || getSyncedVersion(e.state) < ref.log.length;
  for (let round = 0; editors.some(busy); round++) {
    if (round > 100) fail("the editors never settled");
    for (const e of editors) {
      send(e, true);
      while (e.outbox.length > 0) await deliver(e);
    }
    for (const e of editors) await receive(e, true);
  }
  const { text } = await ask({ op: "text" });
  if (text !== ref.doc) fail(`the authority holds ${JSON.stringify(text)}, CodeMirror's reference ${JSON.stringify(ref.doc)}`);
  for (const e of editors) {
    const mine = e.state.doc.toString();
    if (mine !== text) fail(`${e.id} holds ${JSON.stringify(mine)}, the authority ${JSON.stringify(text)}`);
  }
  process.stdout.write(JSON.stringify({ op: "done", ...stats, editors: editors.length, length: text.length }) + "\n");
}

// Output to a pipe is written asynchronously: the script ends by running
// out of work, never by process.exit, so every line gets out.
if (mode === "ops") {
  ops(Number(countArg));
} else if (mode === "sim") {
  const input = createInterface({ input: process.stdin });
  try {
    await simulate(input[Symbol.asyncIterator](), Number(countArg));
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    process.stdout.write(JSON.stringify({ op: "fail", message: err.message }) + "\n");
    process.exitCode = 1;
  }
  input.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
