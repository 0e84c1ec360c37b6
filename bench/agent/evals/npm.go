package evals

// Apps that install from the npm registry: they measure installs too, and
// need the network.
func npmCases() []Case {
	return []Case{
		{
			Name:    "express-bookmarks",
			Network: true,
			Prompt: "Build a bookmarks REST API with Express: GET /api/bookmarks lists them; POST /api/bookmarks with {\"url\", \"title\"} " +
				"returns 201 with the bookmark and its id, or 400 with {\"error\"} when the url is not http(s) or the title is blank; " +
				"DELETE /api/bookmarks/{id} returns 204, or 404 for an unknown id.",
			Checks: []Check{
				{Method: "POST", Path: "/api/bookmarks", Body: `{"url":"ftp://example.com","title":"FTP"}`, Status: 400, Contains: []string{`"error"`}},
				{Method: "POST", Path: "/api/bookmarks", Body: `{"url":"https://go.dev","title":"Go"}`, Status: 201, Capture: []string{"id"}},
				{Path: "/api/bookmarks", Contains: []string{"https://go.dev"}},
				{Method: "DELETE", Path: "/api/bookmarks/{id}", Status: 204},
				{Method: "DELETE", Path: "/api/bookmarks/{id}", Status: 404},
			},
			Files: []string{"package.json", "package-lock.json"},
			Solution: Solution{
				Match:    "bookmarks rest api with express",
				Intro:    "I'll install Express and write the API.",
				Packages: []string{"express@5"},
				Files:    []File{{"index.js", bookmarksApp}},
				Run:      "node index.js", Check: "/api/bookmarks",
				Summary:  "A bookmarks REST API on Express.",
				Features: []string{"GET and POST /api/bookmarks", "DELETE /api/bookmarks/:id", "400 for bad URLs and blank titles"},
			},
		},
		{
			Name:    "markdown-blog",
			Network: true,
			Prompt: "Make a tiny blog in Node.js that renders Markdown posts from the posts/ folder with the marked package: / lists the " +
				"posts' titles linking to /posts/{name}, /posts/{name} renders posts/{name}.md as HTML, and an unknown post gets 404. " +
				"Write two posts, one of them posts/hello-world.md.",
			Checks: []Check{
				{Path: "/", Contains: []string{"/posts/hello-world"}},
				{Path: "/posts/hello-world", Contains: []string{"<h1"}},
				{Path: "/posts/no-such-post", Status: 404},
			},
			Files: []string{"package.json", "posts/hello-world.md"},
			Solution: Solution{
				Match:    "tiny blog in node.js that renders markdown posts",
				Intro:    "I'll install marked and write a small server around it.",
				Packages: []string{"marked@15"},
				Files: []File{
					{"server.js", nodeKit + blogApp},
					{"posts/hello-world.md", "# Hello, world\n\nThe first post of this **tiny** blog.\n"},
					{"posts/second-post.md", "# A second post\n\n- It has a list\n- and a [link](https://example.com).\n"},
				},
				Run: "node server.js", Check: "/posts/hello-world",
				Summary:  "A tiny Markdown blog rendered with marked.",
				Features: []string{"Post list at /", "Posts rendered from posts/*.md", "404 for unknown posts"},
			},
		},
	}
}

const bookmarksApp = `const express = require("express");

const app = express();
app.use(express.json());

let bookmarks = [];
let next = 1;

function isHTTP(s) {
  try {
    return ["http:", "https:"].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

app.get("/api/bookmarks", (req, res) => res.json(bookmarks));
app.post("/api/bookmarks", (req, res) => {
  const { url, title } = req.body || {};
  if (typeof url !== "string" || !isHTTP(url)) return res.status(400).json({ error: "url must be an http or https URL" });
  if (typeof title !== "string" || !title.trim()) return res.status(400).json({ error: "title is required" });
  const bookmark = { id: next++, url, title: title.trim() };
  bookmarks.push(bookmark);
  res.status(201).json(bookmark);
});
app.delete("/api/bookmarks/:id", (req, res) => {
  const i = bookmarks.findIndex((b) => b.id === Number(req.params.id));
  if (i < 0) return res.status(404).json({ error: "no such bookmark" });
  bookmarks.splice(i, 1);
  res.status(204).end();
});

app.listen(process.env.PORT || 3000, "0.0.0.0", () => console.log("bookmarks API listening"));
`

const blogApp = `const fs = require("fs");
const path = require("path");
const { marked } = require("marked");

const dir = path.join(__dirname, "posts");
const names = () => fs.readdirSync(dir).filter((f) => f.endsWith(".md")).map((f) => f.slice(0, -3)).sort();
const source = (name) => fs.readFileSync(path.join(dir, name + ".md"), "utf8");
const title = (name) => (/^#\s+(.*)$/m.exec(source(name)) || [, name])[1];

route("GET", "/", () => {
  const items = names().map((n) => '<li><a href="/posts/' + n + '">' + escapeHTML(title(n)) + "</a></li>").join("");
  return [200, page("Blog", "<h1>Blog</h1><ul>" + items + "</ul>")];
});
route("GET", "/posts/:name", ({ params }) => {
  if (!names().includes(params.name)) return [404, page("Not found", '<h1>No such post</h1><a href="/">All posts</a>')];
  return [200, page(title(params.name), marked.parse(source(params.name)) + '<p><a href="/">All posts</a></p>')];
});
serve();
`
