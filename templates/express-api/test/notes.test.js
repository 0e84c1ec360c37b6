import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createApp } from "../src/app.js";

let server;
let base;

before(async () => {
  // Port 0: the system picks a free port, so tests never clash with a running app.
  server = createApp().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => server.close(resolve)));

async function api(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

test("GET /health answers ok", async () => {
  const res = await api("GET", "/health");
  assert.equal(res.status, 200);
  assert.equal(res.body.status, "ok");
});

describe("notes", () => {
  test("create, read, list, update and delete a note", async () => {
    const created = await api("POST", "/api/notes", { title: "  Groceries ", body: "milk", tags: ["Home", "home"] });
    assert.equal(created.status, 201);
    const { id } = created.body.note;
    assert.equal(created.headers.get("location"), `/api/notes/${id}`);
    assert.equal(created.body.note.title, "Groceries");
    assert.deepEqual(created.body.note.tags, ["home"]);

    const got = await api("GET", `/api/notes/${id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.note.body, "milk");

    const list = await api("GET", "/api/notes?tag=home");
    assert.equal(list.status, 200);
    assert.ok(list.body.notes.some((n) => n.id === id));

    const updated = await api("PATCH", `/api/notes/${id}`, { body: "milk, eggs" });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.note.body, "milk, eggs");
    assert.equal(updated.body.note.title, "Groceries");

    const deleted = await api("DELETE", `/api/notes/${id}`);
    assert.equal(deleted.status, 204);
    const gone = await api("GET", `/api/notes/${id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, "not_found");
  });

  test("rejects an invalid note with the problems listed", async () => {
    const res = await api("POST", "/api/notes", { title: "", tags: "nope" });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, "validation_failed");
    assert.deepEqual(res.body.error.details.map((d) => d.field).sort(), ["tags", "title"]);
  });

  test("rejects an empty update", async () => {
    const { body } = await api("POST", "/api/notes", { title: "x" });
    const res = await api("PATCH", `/api/notes/${body.note.id}`, {});
    assert.equal(res.status, 422);
  });

  test("answers malformed JSON with a JSON error", async () => {
    const res = await api("POST", "/api/notes", "{not json");
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "invalid_json");
  });

  test("unknown notes and routes are JSON 404s", async () => {
    assert.equal((await api("PATCH", "/api/notes/missing", { title: "x" })).status, 404);
    assert.equal((await api("DELETE", "/api/notes/missing")).status, 404);
    const res = await api("GET", "/nowhere");
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, "not_found");
  });
});
