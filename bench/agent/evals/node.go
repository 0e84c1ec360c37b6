package evals

// Node.js servers without packages: the platform's commonest app, and
// quick to start.
func nodeCases() []Case {
	return []Case{
		{
			Name: "quote-of-the-day",
			Prompt: "Write a quote-of-the-day page in plain Node.js (no packages): / shows today's quote as an HTML page titled Quote of the day, " +
				"and GET /api/quote returns it as JSON {\"text\", \"author\"}. Pick it from a list of at least five quotes by the day of the year.",
			Checks: []Check{
				{Path: "/", Contains: []string{"Quote of the day"}, Headers: map[string]string{"Content-Type": "text/html"}},
				{Path: "/api/quote", Contains: []string{`"text":`, `"author":`}, Headers: map[string]string{"Content-Type": "application/json"}},
			},
			Solution: plainNode.solution("quote-of-the-day page", quoteApp, "/api/quote",
				"A quote-of-the-day page and API in plain Node.js.", "Today's quote at /", "GET /api/quote as JSON", "Five quotes, rotating daily"),
		},
		{
			Name: "visit-counter",
			Prompt: "Build a visit counter in plain Node.js that persists to counter.json so it survives restarts: POST /api/increment adds one " +
				"and returns {\"count\": n}, GET /api/count returns the current count the same way, and POST /api/reset sets it to 0.",
			Checks: []Check{
				{Method: "POST", Path: "/api/reset", Contains: []string{`"count":0`}},
				{Method: "POST", Path: "/api/increment", Contains: []string{`"count":1`}},
				{Method: "POST", Path: "/api/increment", Contains: []string{`"count":2`}},
				{Path: "/api/count", Contains: []string{`"count":2`}},
			},
			Files: []string{"counter.json"},
			Solution: plainNode.solution("visit counter", counterApp, "/api/count",
				"A visit counter that keeps its count in counter.json.", "POST /api/increment", "GET /api/count", "POST /api/reset", "Survives restarts"),
		},
		{
			Name: "url-shortener",
			Prompt: "Build a URL shortener in plain Node.js with an in-memory store: POST /api/links with {\"url\": \"https://...\"} returns 201 " +
				"and {\"code\", \"url\"}; a missing or non-http(s) url gets 400 with {\"error\"}; GET /r/{code} redirects (302) to the url; " +
				"an unknown code gets 404.",
			Checks: []Check{
				{Method: "POST", Path: "/api/links", Body: `{"url":"not a url"}`, Status: 400, Contains: []string{`"error"`}},
				{Method: "POST", Path: "/api/links", Body: `{"url":"https://example.com/docs"}`, Status: 201, Contains: []string{"https://example.com/docs"}, Capture: []string{"code"}},
				{Path: "/r/{code}", Status: 302, Headers: map[string]string{"Location": "https://example.com/docs"}},
				{Path: "/r/no-such-code", Status: 404},
			},
			Solution: plainNode.solution("url shortener", shortenerApp, "/r/none",
				"A URL shortener with an in-memory store.", "POST /api/links with validation", "GET /r/{code} redirects", "404 for unknown codes"),
		},
		{
			Name: "todo-api",
			Prompt: "Build a todo JSON API in plain Node.js, no packages: GET /api/todos lists the todos; POST /api/todos with {\"title\"} " +
				"creates one and returns 201 with {\"id\", \"title\", \"done\": false}, or 400 with {\"error\"} when the title is missing or blank; " +
				"PATCH /api/todos/{id} changes title or done; DELETE /api/todos/{id} returns 204; an unknown id gets 404.",
			Checks: []Check{
				{Method: "POST", Path: "/api/todos", Body: `{"title":"   "}`, Status: 400, Contains: []string{`"error"`}},
				{Method: "POST", Path: "/api/todos", Body: `{"title":"Write the eval"}`, Status: 201, Contains: []string{`"done":false`}, Capture: []string{"id"}},
				{Method: "PATCH", Path: "/api/todos/{id}", Body: `{"done":true}`, Contains: []string{`"done":true`}},
				{Path: "/api/todos", Contains: []string{"Write the eval"}},
				{Method: "DELETE", Path: "/api/todos/{id}", Status: 204},
				{Method: "DELETE", Path: "/api/todos/{id}", Status: 404},
			},
			Solution: plainNode.solution("todo json api in plain node", todoApp, "/api/todos",
				"A todo JSON API in plain Node.js.", "List, create, update and delete todos", "400 for a blank title", "404 for unknown ids"),
		},
		{
			Name: "calculator-api",
			Prompt: "Make a calculator API in plain Node.js: GET /api/calc?op=add|sub|mul|div&a=NUMBER&b=NUMBER returns {\"result\": number}; " +
				"division by zero, an unknown op or a missing or non-numeric operand gets 400 with {\"error\"}.",
			Checks: []Check{
				{Path: "/api/calc?op=add&a=2&b=3", Contains: []string{`"result":5`}},
				{Path: "/api/calc?op=div&a=7&b=2", Contains: []string{`"result":3.5`}},
				{Path: "/api/calc?op=mul&a=-4&b=2.5", Contains: []string{`"result":-10`}},
				{Path: "/api/calc?op=div&a=1&b=0", Status: 400, Contains: []string{`"error"`}},
				{Path: "/api/calc?op=pow&a=2&b=3", Status: 400},
				{Path: "/api/calc?op=add&a=x&b=3", Status: 400},
			},
			Solution: plainNode.solution("calculator api", calculatorApp, "/api/calc?op=add&a=2&b=3",
				"A calculator API: add, sub, mul and div.", "GET /api/calc", "400 for division by zero, unknown ops and bad numbers"),
		},
		{
			Name: "health-endpoint",
			Prompt: "Write a small Node.js service (no dependencies) named Pulse: GET /health returns {\"status\": \"ok\", \"uptime\": seconds}, " +
				"GET /version returns {\"version\": \"1.2.3\"}, and / is an HTML page that says the service's name.",
			Checks: []Check{
				{Path: "/health", Contains: []string{`"status":"ok"`, `"uptime":`}},
				{Path: "/version", Contains: []string{`"version":"1.2.3"`}},
				{Path: "/", Contains: []string{"Pulse"}},
			},
			Solution: plainNode.solution("service (no dependencies) named pulse", healthApp, "/health",
				"Pulse: a service with health and version endpoints.", "GET /health with uptime", "GET /version", "A home page"),
		},
		{
			Name: "cors-api",
			Prompt: "Build a public JSON API in plain Node.js that browsers on other sites may call: GET /api/colors returns a list of colour names " +
				"including red, green and blue; POST /api/colors with {\"name\"} adds one (201). Every response carries " +
				"Access-Control-Allow-Origin: *, and OPTIONS preflight requests get 204 with Access-Control-Allow-Methods listing GET and POST " +
				"and Access-Control-Allow-Headers allowing Content-Type.",
			Checks: []Check{
				{Path: "/api/colors", Contains: []string{"red", "green", "blue"}, Headers: map[string]string{"Access-Control-Allow-Origin": "*"}},
				{Method: "OPTIONS", Path: "/api/colors", Status: 204, Headers: map[string]string{
					"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "content-type",
				}},
				{Method: "POST", Path: "/api/colors", Body: `{"name":"violet"}`, Status: 201, Headers: map[string]string{"Access-Control-Allow-Origin": "*"}},
				{Path: "/api/colors", Contains: []string{"violet"}},
			},
			Solution: plainNode.solution("browsers on other sites may call", corsApp, "/api/colors",
				"A JSON API of colours that any site may call.", "GET and POST /api/colors", "CORS headers on every response", "Preflight answered with 204"),
		},
		{
			Name: "custom-404",
			Prompt: "Make a small Node.js website (no packages) with a home page at / and an about page at /about, and a friendly custom 404 page " +
				"for every other path: status 404, the heading Page not found and a link back home.",
			Checks: []Check{
				{Path: "/", Contains: []string{"<html"}},
				{Path: "/about", Contains: []string{"About"}},
				{Path: "/no/such/page", Status: 404, Contains: []string{"Page not found", `href="/"`}},
			},
			Solution: plainNode.solution("friendly custom 404 page", notFoundApp, "/missing",
				"A small website with a friendly 404 page.", "Home and about pages", "A custom 404 page with a link home"),
		},
		{
			Name: "markdown-page",
			Prompt: "Render notes.md as an HTML page in plain Node.js without packages: write a small Markdown converter for headings, paragraphs, " +
				"**bold**, *italic*, links and bullet lists. / shows the rendered notes and /raw serves the Markdown itself as text/plain. " +
				"Write notes.md starting with the heading \"# Release notes\", with a bulleted list, a link, and some bold and italic text.",
			Checks: []Check{
				{Path: "/", Contains: []string{"<h1>Release notes</h1>", "<li>", "<strong>", "<em>", "<a href="}},
				{Path: "/raw", Contains: []string{"# Release notes"}, Headers: map[string]string{"Content-Type": "text/plain"}},
			},
			Files: []string{"notes.md"},
			Solution: Solution{
				Match: "render notes.md as an html page",
				Intro: "I'll write a small Markdown converter and the notes.",
				Files: []File{{"server.js", nodeKit + markdownApp}, {"notes.md", releaseNotes}},
				Run:   "node server.js", Check: "/",
				Summary:  "notes.md rendered as HTML by a small Markdown converter.",
				Features: []string{"Headings, paragraphs, bold, italic, links and lists", "The rendered page at /", "The Markdown at /raw"},
			},
		},
		{
			Name: "guestbook",
			Prompt: "Build a guestbook in plain Node.js: GET / shows all entries as HTML (escape what visitors wrote), GET /api/entries lists them " +
				"as JSON, POST /api/entries with {\"name\", \"message\"} adds one (201), and a missing name or message gets 400 with {\"error\"}.",
			Checks: []Check{
				{Method: "POST", Path: "/api/entries", Body: `{"name":"Eve"}`, Status: 400, Contains: []string{`"error"`}},
				{Method: "POST", Path: "/api/entries", Body: `{"name":"Eve","message":"<script>alert(1)</script> was here"}`, Status: 201},
				{Path: "/api/entries", Contains: []string{"Eve", "was here"}},
				{Path: "/", Contains: []string{"Eve", "&lt;script&gt;"}, Excludes: []string{"<script>alert"}},
			},
			Solution: plainNode.solution("build a guestbook", guestbookApp, "/",
				"A guestbook with an HTML page and a JSON API.", "Entries listed at /, escaped", "GET and POST /api/entries", "400 for a missing name or message"),
		},
		{
			Name: "request-inspector",
			Prompt: "Write a request inspector in plain Node.js: any request to /inspect or a path below it, with any method, returns JSON with " +
				"method, path, query (the query parameters as an object), headers and body (the raw request body as a string).",
			Checks: []Check{
				{Path: "/inspect/deep?x=1&y=two", Contains: []string{`"method":"GET"`, `"path":"/inspect/deep"`, `"x":"1"`, `"y":"two"`}},
				{Method: "PUT", Path: "/inspect", Body: `{"hello":"world"}`, Contains: []string{`"method":"PUT"`, "hello", "world", "application/json"}},
			},
			Solution: plainNode.solution("request inspector", inspectorApp, "/inspect?probe=1",
				"A request inspector that echoes requests as JSON.", "Any method under /inspect", "Method, path, query, headers and body"),
		},
		{
			Name: "poll",
			Prompt: "Build a poll API in plain Node.js for the question \"Tabs or spaces?\": GET /api/poll returns {\"question\", \"options\"} " +
				"where options maps each choice (tabs, spaces) to its vote count; POST /api/poll/vote with {\"option\": \"tabs\"} counts one vote " +
				"and returns the updated poll; an unknown option gets 400 with {\"error\"}.",
			Checks: []Check{
				{Path: "/api/poll", Contains: []string{`"question":"Tabs or spaces?"`, `"tabs":`, `"spaces":`}},
				{Method: "POST", Path: "/api/poll/vote", Body: `{"option":"spaces"}`, Contains: []string{`"spaces":`}},
				{Method: "POST", Path: "/api/poll/vote", Body: `{"option":"emacs"}`, Status: 400, Contains: []string{`"error"`}},
			},
			Solution: plainNode.solution(`question "tabs or spaces?"`, pollApp, "/api/poll",
				"A one-question poll API.", "GET /api/poll", "POST /api/poll/vote", "400 for unknown options"),
		},
	}
}

const quoteApp = `const quotes = [
  { text: "Simplicity is prerequisite for reliability.", author: "Edsger W. Dijkstra" },
  { text: "Programs must be written for people to read, and only incidentally for machines to execute.", author: "Harold Abelson" },
  { text: "The best way to predict the future is to invent it.", author: "Alan Kay" },
  { text: "Make it work, make it right, make it fast.", author: "Kent Beck" },
  { text: "Talk is cheap. Show me the code.", author: "Linus Torvalds" },
];

function today() {
  const now = new Date();
  const day = Math.floor((now - new Date(now.getFullYear(), 0, 0)) / 86400000);
  return quotes[day % quotes.length];
}

route("GET", "/api/quote", () => [200, today()]);
route("GET", "/", () => {
  const q = today();
  return [200, page("Quote of the day", "<h1>Quote of the day</h1><blockquote>" + escapeHTML(q.text) + "</blockquote><p>— " + escapeHTML(q.author) + "</p>")];
});
serve();
`

const counterApp = `const fs = require("fs");
const FILE = "counter.json";

function load() {
  try {
    return JSON.parse(fs.readFileSync(FILE, "utf8")).count || 0;
  } catch {
    return 0;
  }
}

let count = load();

// save writes through a temporary file, so a crash never leaves half a file.
function save() {
  fs.writeFileSync(FILE + ".tmp", JSON.stringify({ count }));
  fs.renameSync(FILE + ".tmp", FILE);
  return [200, { count }];
}

route("GET", "/api/count", () => [200, { count }]);
route("POST", "/api/increment", () => {
  count++;
  return save();
});
route("POST", "/api/reset", () => {
  count = 0;
  return save();
});
route("GET", "/", () => [200, page("Visits", "<h1>Visits: " + count + "</h1>")]);
serve();
`

const shortenerApp = `const links = new Map();
let next = 1;

function httpURL(s) {
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

route("POST", "/api/links", ({ body }) => {
  const url = body && typeof body.url === "string" ? httpURL(body.url) : null;
  if (!url) return [400, { error: "url must be an http or https URL" }];
  const code = (next++).toString(36) + Math.random().toString(36).slice(2, 6);
  links.set(code, url);
  return [201, { code, url }];
});
route("GET", "/r/:code", ({ params }) =>
  links.has(params.code) ? [302, "", { Location: links.get(params.code) }] : [404, { error: "no such link" }]);
serve();
`

const todoApp = `let todos = [];
let next = 1;
const find = (id) => todos.find((t) => t.id === Number(id));

route("GET", "/api/todos", () => [200, todos]);
route("POST", "/api/todos", ({ body }) => {
  const title = body && typeof body.title === "string" ? body.title.trim() : "";
  if (!title) return [400, { error: "title is required" }];
  const todo = { id: next++, title, done: false };
  todos.push(todo);
  return [201, todo];
});
route("PATCH", "/api/todos/:id", ({ params, body }) => {
  const todo = find(params.id);
  if (!todo) return [404, { error: "no such todo" }];
  if (!body) return [400, { error: "the body must be JSON" }];
  if (typeof body.title === "string" && body.title.trim()) todo.title = body.title.trim();
  if (typeof body.done === "boolean") todo.done = body.done;
  return [200, todo];
});
route("DELETE", "/api/todos/:id", ({ params }) => {
  const todo = find(params.id);
  if (!todo) return [404, { error: "no such todo" }];
  todos = todos.filter((t) => t !== todo);
  return [204];
});
serve();
`

const calculatorApp = `const ops = { add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b };

// number is the operand, or NaN when it is missing or not a number
// (Number("") would be 0).
function number(s) {
  return s === null || s.trim() === "" ? NaN : Number(s);
}

route("GET", "/api/calc", ({ url }) => {
  const op = url.searchParams.get("op");
  const a = number(url.searchParams.get("a"));
  const b = number(url.searchParams.get("b"));
  if (!Object.hasOwn(ops, op)) return [400, { error: "op must be add, sub, mul or div" }];
  if (!Number.isFinite(a) || !Number.isFinite(b)) return [400, { error: "a and b must be numbers" }];
  if (op === "div" && b === 0) return [400, { error: "division by zero" }];
  return [200, { result: ops[op](a, b) }];
});
route("GET", "/", () => [200, page("Calculator", "<h1>Calculator API</h1><p>GET /api/calc?op=add&amp;a=2&amp;b=3</p>")]);
serve();
`

const healthApp = `const started = Date.now();

route("GET", "/health", () => [200, { status: "ok", uptime: Math.round((Date.now() - started) / 1000) }]);
route("GET", "/version", () => [200, { version: "1.2.3" }]);
route("GET", "/", () => [200, page("Pulse", "<h1>Pulse</h1><p>See /health and /version.</p>")]);
serve();
`

const corsApp = `const cors = { "Access-Control-Allow-Origin": "*" };
const colors = ["red", "green", "blue"];

route("GET", "/api/colors", () => [200, colors, cors]);
route("POST", "/api/colors", ({ body }) => {
  const name = body && typeof body.name === "string" ? body.name.trim() : "";
  if (!name) return [400, { error: "name is required" }, cors];
  colors.push(name);
  return [201, { name }, cors];
});
route("OPTIONS", "/api/:any", () => [204, null, {
  ...cors,
  "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
  "Access-Control-Allow-Headers": "Content-Type",
  "Access-Control-Max-Age": "86400",
}]);
serve(() => [404, { error: "not found" }, cors]);
`

const notFoundApp = `const nav = '<nav><a href="/">Home</a> · <a href="/about">About</a></nav>';

route("GET", "/", () => [200, page("Home", nav + "<h1>Welcome</h1><p>A tiny site.</p>")]);
route("GET", "/about", () => [200, page("About", nav + "<h1>About</h1><p>Made with plain Node.js.</p>")]);
serve(() => [404, page("Page not found", nav + '<h1>Page not found</h1><p>There is nothing here. <a href="/">Go back home</a>.</p>')]);
`

const markdownApp = `const fs = require("fs");

function inline(text) {
  return escapeHTML(text)
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/\*(.+?)\*/g, "<em>$1</em>")
    .replace(/\x60(.+?)\x60/g, "<code>$1</code>")
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>');
}

function markdown(src) {
  const out = [];
  let para = [];
  let inList = false;
  const endPara = () => {
    if (para.length) out.push("<p>" + inline(para.join(" ")) + "</p>");
    para = [];
  };
  const endList = () => {
    if (inList) out.push("</ul>");
    inList = false;
  };
  for (const line of src.split(/\r?\n/)) {
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^\s*[-*]\s+(.*)$/.exec(line);
    if (heading) {
      endPara();
      endList();
      const n = heading[1].length;
      out.push("<h" + n + ">" + inline(heading[2].trim()) + "</h" + n + ">");
    } else if (item) {
      endPara();
      if (!inList) out.push("<ul>");
      inList = true;
      out.push("<li>" + inline(item[1]) + "</li>");
    } else if (line.trim() === "") {
      endPara();
      endList();
    } else {
      endList();
      para.push(line.trim());
    }
  }
  endPara();
  endList();
  return out.join("\n");
}

// The notes are read on every request, so an edit shows on reload.
const notes = () => fs.readFileSync("notes.md", "utf8");
route("GET", "/", () => [200, page("Release notes", markdown(notes()))]);
route("GET", "/raw", () => [200, notes(), { "Content-Type": "text/plain; charset=utf-8" }]);
serve();
`

const releaseNotes = `# Release notes

Version **2.0** is out. Read the [full changelog](https://example.com/changelog).

## What changed

- Starts twice as *fast*
- A new **dark** theme
- Fewer dependencies

Thanks to everyone who reported bugs.
`

const guestbookApp = `const entries = [];
const field = (body, name) => (body && typeof body[name] === "string" ? body[name].trim() : "");

route("GET", "/api/entries", () => [200, entries]);
route("POST", "/api/entries", ({ body }) => {
  const name = field(body, "name");
  const message = field(body, "message");
  if (!name || !message) return [400, { error: "name and message are required" }];
  if (name.length > 80 || message.length > 2000) return [400, { error: "name or message is too long" }];
  const entry = { name, message, at: new Date().toISOString() };
  entries.unshift(entry);
  return [201, entry];
});
route("GET", "/", () => {
  const items = entries.map((e) => "<li><b>" + escapeHTML(e.name) + "</b>: " + escapeHTML(e.message) + "</li>").join("");
  return [200, page("Guestbook", "<h1>Guestbook</h1><ul>" + items + "</ul>")];
});
serve();
`

const inspectorApp = `route("*", "/inspect(?:/.*)?", ({ req, url, text }) => [200, {
  method: req.method,
  path: url.pathname,
  query: Object.fromEntries(url.searchParams),
  headers: req.headers,
  body: text,
}]);
serve();
`

const pollApp = `const poll = { question: "Tabs or spaces?", options: { tabs: 0, spaces: 0 } };

route("GET", "/api/poll", () => [200, poll]);
route("POST", "/api/poll/vote", ({ body }) => {
  const option = body && body.option;
  if (typeof option !== "string" || !Object.hasOwn(poll.options, option)) {
    return [400, { error: "option must be one of " + Object.keys(poll.options).join(", ") }];
  }
  poll.options[option]++;
  return [200, poll];
});
serve();
`
