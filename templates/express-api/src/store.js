import { randomUUID } from "node:crypto";

// An in-memory store: everything is lost when the server restarts.
// Swap it for a database when you need one.
export class NoteStore {
  #notes = new Map();

  list() {
    return [...this.#notes.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  get(id) {
    return this.#notes.get(id);
  }

  create({ title, body = "", tags = [] }) {
    const now = new Date().toISOString();
    const note = { id: randomUUID(), title, body, tags, createdAt: now, updatedAt: now };
    this.#notes.set(note.id, note);
    return note;
  }

  update(id, changes) {
    const note = this.#notes.get(id);
    if (!note) return undefined;
    Object.assign(note, changes, { updatedAt: new Date().toISOString() });
    return note;
  }

  delete(id) {
    return this.#notes.delete(id);
  }
}
