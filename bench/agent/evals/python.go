package evals

// Python apps on the standard library's http.server.
func pythonCases() []Case {
	return []Case{
		{
			Name: "text-stats",
			Prompt: "Write a text statistics API in Python using only the standard library: POST /api/stats with {\"text\": \"...\"} returns " +
				"{\"words\", \"characters\", \"lines\"}; a missing text field gets 400 with {\"error\"}.",
			Checks: []Check{
				{Method: "POST", Path: "/api/stats", Body: `{"text":"one two three\nfour"}`, Contains: []string{`"words":4`, `"characters":18`, `"lines":2`}},
				{Method: "POST", Path: "/api/stats", Body: `{}`, Status: 400, Contains: []string{`"error"`}},
			},
			Solution: stdlibPython.solution("text statistics api", statsApp, "/api/stats",
				"A text statistics API on Python's standard library.", "POST /api/stats counts words, characters and lines", "400 without text"),
		},
		{
			Name: "notes-json-file",
			Prompt: "Build a notes API in Python with only the standard library, saving to notes.json so notes survive restarts: GET /api/notes " +
				"lists them, POST /api/notes with {\"title\", \"body\"} creates one and returns 201 with its id; a missing title gets 400 with {\"error\"}.",
			Checks: []Check{
				{Method: "POST", Path: "/api/notes", Body: `{"body":"no title"}`, Status: 400, Contains: []string{`"error"`}},
				{Method: "POST", Path: "/api/notes", Body: `{"title":"Shopping","body":"milk, eggs"}`, Status: 201, Contains: []string{`"id":`}},
				{Path: "/api/notes", Contains: []string{"Shopping", "milk, eggs"}},
			},
			Files: []string{"notes.json"},
			Solution: stdlibPython.solution("notes api in python", notesApp, "/api/notes",
				"A notes API that keeps its notes in notes.json.", "GET and POST /api/notes", "Saved to notes.json", "400 without a title"),
		},
		{
			Name: "temperature-converter",
			Prompt: "Make a temperature converter in Python (standard library only): GET /api/convert?c=100 returns {\"c\": 100, \"f\": 212} and " +
				"GET /api/convert?f=32 returns {\"c\": 0, \"f\": 32}; a missing or non-numeric value gets 400 with {\"error\"}. " +
				"Serve a small HTML form at / that uses it.",
			Checks: []Check{
				{Path: "/api/convert?c=100", Contains: []string{`"f":212`}},
				{Path: "/api/convert?f=32", Contains: []string{`"c":0`}},
				{Path: "/api/convert?c=warm", Status: 400, Contains: []string{`"error"`}},
				{Path: "/", Contains: []string{"<form"}},
			},
			Solution: stdlibPython.solution("temperature converter", temperatureApp, "/api/convert?c=100",
				"A Celsius and Fahrenheit converter with an HTML form.", "GET /api/convert?c= or ?f=", "400 for bad input", "A form at /"),
		},
		{
			Name: "times-table",
			Prompt: "Write a Python web app (standard library only) that serves multiplication tables: /table?n=7 shows an HTML table of " +
				"7 × 1 through 7 × 12 with the results, / has a form to pick n, and an n that is not a whole number from 1 to 100 gets a 400 page.",
			Checks: []Check{
				{Path: "/table?n=7", Contains: []string{"<table", "<td", "84"}},
				{Path: "/table?n=0", Status: 400},
				{Path: "/table?n=seven", Status: 400},
				{Path: "/", Contains: []string{"<form"}},
			},
			Solution: stdlibPython.solution("serves multiplication tables", timesTableApp, "/table?n=7",
				"Multiplication tables as HTML pages.", "/table?n= for 1 to 100", "A form at /", "400 for anything else"),
		},
		{
			Name: "password-generator",
			Prompt: "Create a password generator API in Python (standard library only, with the secrets module): GET /api/password?length=20 " +
				"returns {\"password\": \"...\", \"length\": 20}; the length defaults to 16; a length below 8 or above 128 gets 400 with {\"error\"}.",
			Checks: []Check{
				{Path: "/api/password?length=20", Contains: []string{`"length":20`, `"password":"`}},
				{Path: "/api/password", Contains: []string{`"length":16`}},
				{Path: "/api/password?length=4", Status: 400, Contains: []string{`"error"`}},
			},
			Solution: stdlibPython.solution("password generator api", passwordApp, "/api/password",
				"A password generator API using Python's secrets module.", "GET /api/password?length=", "Defaults to 16", "400 outside 8 to 128"),
		},
	}
}

const statsApp = `@route("POST", "/api/stats")
def stats(query, body):
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return 400, {"error": "text is required"}
    return 200, {"words": len(text.split()), "characters": len(text), "lines": len(text.splitlines())}


serve()
`

const notesApp = `import threading

FILE = "notes.json"
lock = threading.Lock()


def load():
    try:
        with open(FILE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return []


@route("GET", "/api/notes")
def list_notes(query, body):
    return 200, load()


@route("POST", "/api/notes")
def create_note(query, body):
    body = body if isinstance(body, dict) else {}
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        return 400, {"error": "title is required"}
    with lock:
        notes = load()
        note = {"id": max((n["id"] for n in notes), default=0) + 1, "title": title.strip(), "body": str(body.get("body", ""))}
        notes.append(note)
        # Write a temporary file and rename it: a crash never leaves half a file.
        with open(FILE + ".tmp", "w") as f:
            json.dump(notes, f, indent=2)
        os.replace(FILE + ".tmp", FILE)
    return 201, note


serve()
`

const temperatureApp = `import math

FORM = page("Temperature converter", """<h1>Temperature converter</h1>
<form id="convert"><input name="c" type="number" step="any" placeholder="Celsius"> <button>To Fahrenheit</button></form>
<p id="out"></p>
<script>
document.getElementById("convert").onsubmit = async (e) => {
  e.preventDefault();
  const res = await fetch("/api/convert?c=" + encodeURIComponent(e.target.c.value));
  const data = await res.json();
  document.getElementById("out").textContent = res.ok ? data.c + " °C = " + data.f + " °F" : data.error;
};
</script>""")


def number(query, key):
    try:
        value = float(query[key])
    except (KeyError, ValueError):
        return None
    return value if math.isfinite(value) else None


@route("GET", "/api/convert")
def convert(query, body):
    c, f = number(query, "c"), number(query, "f")
    if c is not None:
        return 200, {"c": c, "f": round(c * 9 / 5 + 32, 2)}
    if f is not None:
        return 200, {"c": round((f - 32) * 5 / 9, 2), "f": f}
    return 400, {"error": "give c or f as a number"}


@route("GET", "/")
def home(query, body):
    return 200, FORM


serve()
`

const timesTableApp = `FORM = '<form action="/table"><label>n <input name="n" type="number" min="1" max="100" value="7"></label> <button>Show</button></form>'


@route("GET", "/")
def home(query, body):
    return 200, page("Times tables", "<h1>Times tables</h1>" + FORM)


@route("GET", "/table")
def table(query, body):
    try:
        n = int(query.get("n", ""))
    except ValueError:
        n = 0
    if not 1 <= n <= 100:
        return 400, page("Bad number", "<h1>Bad number</h1><p>n must be a whole number from 1 to 100.</p>" + FORM)
    rows = "".join(f"<tr><td>{n} × {i}</td><td>{n * i}</td></tr>" for i in range(1, 13))
    return 200, page(f"{n} times table", f"<h1>{n} times table</h1><table>{rows}</table>" + FORM)


serve()
`

const passwordApp = `import secrets
import string

ALPHABET = string.ascii_letters + string.digits + "!@#$%^&*-_"


@route("GET", "/api/password")
def password(query, body):
    try:
        length = int(query.get("length", "16"))
    except ValueError:
        return 400, {"error": "length must be a whole number"}
    if not 8 <= length <= 128:
        return 400, {"error": "length must be from 8 to 128"}
    return 200, {"password": "".join(secrets.choice(ALPHABET) for _ in range(length)), "length": length}


serve()
`
