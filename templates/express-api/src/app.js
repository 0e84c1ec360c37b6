import express from "express";
import { HttpError, errorHandler, notFound } from "./errors.js";
import { NoteStore } from "./store.js";
import { validateNote } from "./validate.js";

// createApp builds the API. Each call gets its own store, which keeps tests independent.
export function createApp({ store = new NoteStore() } = {}) {
  const app = express();
  app.use(express.json({ limit: "100kb" }));

  app.get("/", (req, res) => {
    res.json({
      name: "Notes API",
      endpoints: [
        "GET /health",
        "GET /api/notes?tag=",
        "GET /api/notes/:id",
        "POST /api/notes",
        "PATCH /api/notes/:id",
        "DELETE /api/notes/:id",
      ],
    });
  });

  app.get("/health", (req, res) => {
    res.json({ status: "ok", uptime: process.uptime() });
  });

  const notes = express.Router();

  notes.get("/", (req, res) => {
    const { tag } = req.query;
    let list = store.list();
    if (typeof tag === "string" && tag !== "") {
      list = list.filter((n) => n.tags.includes(tag.toLowerCase()));
    }
    res.json({ notes: list, count: list.length });
  });

  notes.get("/:id", (req, res) => {
    res.json({ note: find(req.params.id) });
  });

  notes.post("/", (req, res) => {
    const note = store.create(validateNote(req.body));
    res.status(201).location(`/api/notes/${note.id}`).json({ note });
  });

  notes.patch("/:id", (req, res) => {
    find(req.params.id);
    const note = store.update(req.params.id, validateNote(req.body, { partial: true }));
    res.json({ note });
  });

  notes.delete("/:id", (req, res) => {
    find(req.params.id);
    store.delete(req.params.id);
    res.status(204).end();
  });

  function find(id) {
    const note = store.get(id);
    if (!note) throw new HttpError(404, "not_found", `No note with id ${id}`);
    return note;
  }

  app.use("/api/notes", notes);
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
