// HttpError carries a status and a machine-readable code to the error handler.
export class HttpError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function notFound(req, res, next) {
  next(new HttpError(404, "not_found", `No route for ${req.method} ${req.path}`));
}

// errorHandler answers every error as JSON: {"error": {"code", "message", "details"?}}.
export function errorHandler(err, req, res, next) {
  if (res.headersSent) return next(err);
  // express.json() reports a malformed body as a SyntaxError with status 400.
  if (err.type === "entity.parse.failed") {
    err = new HttpError(400, "invalid_json", "The request body is not valid JSON");
  }
  const status = err.status ?? err.statusCode ?? 500;
  if (status >= 500) console.error(err);
  const error = {
    code: err.code && typeof err.code === "string" && status < 500 ? err.code : status >= 500 ? "internal" : "bad_request",
    message: status >= 500 ? "Something went wrong" : err.message,
  };
  if (err.details) error.details = err.details;
  res.status(status).json({ error });
}
