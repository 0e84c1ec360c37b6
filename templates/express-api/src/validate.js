import { HttpError } from "./errors.js";

// validateNote checks a note body. With partial set (PATCH), every field is optional.
// It returns only the known fields, so clients cannot set id or timestamps.
export function validateNote(input, { partial = false } = {}) {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw new HttpError(400, "invalid_body", "The request body must be a JSON object");
  }
  const problems = [];
  const out = {};

  if (input.title !== undefined || !partial) {
    if (typeof input.title !== "string" || input.title.trim() === "") {
      problems.push({ field: "title", message: "title is required and must be a non-empty string" });
    } else if (input.title.length > 200) {
      problems.push({ field: "title", message: "title must be at most 200 characters" });
    } else {
      out.title = input.title.trim();
    }
  }
  if (input.body !== undefined) {
    if (typeof input.body !== "string") {
      problems.push({ field: "body", message: "body must be a string" });
    } else if (input.body.length > 10_000) {
      problems.push({ field: "body", message: "body must be at most 10000 characters" });
    } else {
      out.body = input.body;
    }
  }
  if (input.tags !== undefined) {
    if (!Array.isArray(input.tags) || !input.tags.every((t) => typeof t === "string" && t.trim() !== "")) {
      problems.push({ field: "tags", message: "tags must be an array of non-empty strings" });
    } else {
      out.tags = [...new Set(input.tags.map((t) => t.trim().toLowerCase()))];
    }
  }
  if (partial && problems.length === 0 && Object.keys(out).length === 0) {
    problems.push({ field: null, message: "give at least one of title, body, tags" });
  }
  if (problems.length > 0) {
    throw new HttpError(422, "validation_failed", "The note is not valid", problems);
  }
  return out;
}
