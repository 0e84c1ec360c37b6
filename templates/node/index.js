import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 3000);

const server = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<h1>Hello from Node.js</h1><p>You asked for ${req.url}</p>`);
});

server.listen(port, () => {
  console.log(`Listening on http://localhost:${port}`);
});
