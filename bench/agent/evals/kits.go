package evals

// The scripted solutions share a small router per language, written at
// the top of each app's one file, so each case's code is only its own
// logic. (A real model writes its own; the checks do not care.)

// nodeKit: route(method, pattern, handler) on Node's http module, where
// pattern is a regular expression in which :name captures a path segment
// and a handler gets {req, url, params, text, body} (body is null when the
// request's body is not JSON) and returns [status, body, headers]: a string
// body is HTML (page(title, body) makes a document), anything else JSON,
// none an empty answer.
const nodeKit = `const http = require("http");

const routes = [];

function route(method, pattern, handler) {
  const re = new RegExp("^" + pattern.replace(/:(\w+)/g, "(?<$1>[^/]+)") + "$");
  routes.push({ method, re, handler });
}

function escapeHTML(s) {
  const entities = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  return String(s).replace(/[&<>"']/g, (c) => entities[c]);
}

function page(title, body) {
  return '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>' + escapeHTML(title) + "</title></head><body>" + body + "</body></html>";
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (chunk) => {
      raw += chunk;
      if (raw.length > 1e6) req.destroy(new Error("body too large"));
    });
    req.on("end", () => resolve(raw));
    req.on("error", reject);
  });
}

function parseJSON(text) {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return null;
  }
}

function reply(res, status, body, headers = {}) {
  if (body === undefined || body === null) {
    res.writeHead(status, headers);
    return res.end();
  }
  const html = typeof body === "string";
  res.writeHead(status, { "Content-Type": html ? "text/html; charset=utf-8" : "application/json", ...headers });
  res.end(html ? body : JSON.stringify(body));
}

function serve(notFound = () => [404, { error: "not found" }]) {
  const port = process.env.PORT || 3000;
  http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://localhost");
    try {
      const text = await readBody(req);
      let match = null;
      const r = routes.find((r) => (r.method === req.method || r.method === "*") && (match = r.re.exec(url.pathname)));
      const ctx = { req, url, params: (match && match.groups) || {}, text, body: parseJSON(text) };
      const [status, body, headers] = r ? await r.handler(ctx) : notFound(ctx);
      reply(res, status, body, headers);
    } catch (err) {
      console.error(err);
      reply(res, 500, { error: "internal error" });
    }
  }).listen(port, "0.0.0.0", () => console.log("listening on " + port));
}

`

// pyKit: @route(method, path) on http.server, where a handler gets the
// query (first value of each name) and the JSON body (None when it is not
// JSON) and returns (status, body): a str body is HTML (page(title,
// body) makes a document), anything else JSON.
const pyKit = `import html
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ROUTES = {}


def route(method, path):
    def register(fn):
        ROUTES[(method, path)] = fn
        return fn
    return register


def page(title, body):
    return f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title></head><body>{body}</body></html>'


class Handler(BaseHTTPRequestHandler):
    def handle_any(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        fn = ROUTES.get((self.command, url.path))
        try:
            status, out = fn(query, body) if fn else (404, {"error": "not found"})
        except Exception as e:  # a bug answers 500, not a dropped connection
            self.log_error("handler failed: %r", e)
            status, out = 500, {"error": "internal error"}
        if isinstance(out, str):
            data, kind = out.encode(), "text/html; charset=utf-8"
        else:
            data, kind = json.dumps(out).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


def serve():
    port = int(os.environ.get("PORT", "3000"))
    print(f"listening on {port}", flush=True)
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()

`
