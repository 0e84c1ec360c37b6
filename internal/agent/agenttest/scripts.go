package agenttest

// HelloServer is a dependency-free Node app that says hello on $PORT.
const HelloServer = `const http = require("http");
const port = process.env.PORT || 3000;
http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
  res.end("<!doctype html><title>Hello</title><h1>Hello from the agent</h1>");
}).listen(port, "0.0.0.0", () => console.log("listening on " + port));
`

// HelloPage builds HelloServer: for prompts that say "hello page".
var HelloPage = Script{Match: "hello page", Turns: []Turn{
	{Text: "I'll write a small Node.js server that serves the page. 👋", Tools: []ToolCall{
		{Name: "write_file", Input: map[string]any{"path": "server.js", "content": HelloServer}},
		{Name: "write_file", Input: map[string]any{"path": "ecode.toml", "content": "run = \"node server.js\"\n"}},
	}},
	{Tools: []ToolCall{{Name: "start_app", Input: map[string]any{}}}},
	{Tools: []ToolCall{{Name: "check_app", Input: map[string]any{"path": "/"}}}},
	{Text: "The page answers.", Tools: []ToolCall{{Name: "finish", Input: map[string]any{
		"summary":  "A Node.js server that greets visitors with a hello page.",
		"features": []any{"Hello page at /", "Listens on $PORT"},
	}}}},
}}

// TodoIndex is an Express JSON API for todos.
const TodoIndex = `const express = require("express");
const app = express();
app.use(express.json());
let todos = [{ id: 1, title: "Try E-Code", done: false }];
let next = 2;
app.get("/health", (req, res) => res.json({ ok: true }));
app.get("/api/todos", (req, res) => res.json(todos));
app.post("/api/todos", (req, res) => {
  if (typeof req.body.title !== "string" || !req.body.title.trim()) return res.status(400).json({ error: "title is required" });
  const todo = { id: next++, title: req.body.title.trim(), done: false };
  todos.push(todo);
  res.status(201).json(todo);
});
app.delete("/api/todos/:id", (req, res) => {
  const before = todos.length;
  todos = todos.filter((t) => t.id !== Number(req.params.id));
  res.status(before === todos.length ? 404 : 204).end();
});
app.listen(process.env.PORT || 3000, "0.0.0.0", () => console.log("todo API listening"));
`

// ExpressTodo builds TodoIndex, installing Express from the npm registry.
var ExpressTodo = Script{Match: "express todo api", Turns: []Turn{
	{Text: "I'll set up an Express app.", Tools: []ToolCall{
		{Name: "install_packages", Input: map[string]any{"manager": "npm", "packages": []any{"express@4"}}},
	}},
	{Tools: []ToolCall{
		{Name: "write_file", Input: map[string]any{"path": "index.js", "content": TodoIndex}},
		{Name: "write_file", Input: map[string]any{"path": "ecode.toml", "content": "run = \"node index.js\"\ninstall = \"npm install\"\n"}},
		{Name: "write_file", Input: map[string]any{"path": ".gitignore", "content": "node_modules/\n"}},
	}},
	{Tools: []ToolCall{{Name: "start_app", Input: map[string]any{}}}},
	{Tools: []ToolCall{{Name: "check_app", Input: map[string]any{"path": "/api/todos"}}}},
	{Tools: []ToolCall{{Name: "finish", Input: map[string]any{
		"summary":  "An Express JSON API for todos.",
		"features": []any{"GET /api/todos", "POST /api/todos with validation", "DELETE /api/todos/:id", "GET /health"},
	}}}},
}}

// Completion is what the scripted model suggests in the editor.
const Completion = `console.log("completed by the model");`

// All are the scripts the scripted model plays, first match wins.
func All() []Script { return []Script{HelloPage, ExpressTodo} }
