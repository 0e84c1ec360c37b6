// Session replay size: a typical session of one minute on a small app (a
// list of 40 items, tabs that swap content, a form, a search box that
// filters, scrolling and the mouse moving between), recorded by the SDK with
// every session sampled and text masked, then the compressed bytes the
// platform stored, per minute. Three sessions.
// Usage: node bench/replay-size.mjs http://127.0.0.1:PORT (bench/replay-size.sh starts one).
import { createServer } from "node:http";
import { chromium } from "../e2e/node_modules/playwright-core/index.mjs";

const base = process.argv[2];
const minute = 60_000;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const api = ctx.request;
await api.post(`${base}/api/auth/signup`, { data: { username: "replay", email: "replay@example.com", password: "replay-password-1" } });
const { project } = await (await api.post(`${base}/api/projects`, { data: { name: "Replay Size" } })).json();
const settings = await (await api.put(`${base}/api/projects/${project.id}/monitoring`, { data: { replaySample: 1, maskText: true } })).json();

const items = Array.from({ length: 40 }, (_, i) => `<li class="item"><b>Order #${1000 + i}</b> <span>Customer ${i}</span> <em>$${(i * 7.3).toFixed(2)}</em> <button>Details</button></li>`).join("");
const page = `<!doctype html><html><head><title>Shop admin</title>
<style>body{font:14px system-ui;margin:0}nav{display:flex;gap:8px;padding:12px;background:#223}nav button{color:#fff;background:none;border:0}
main{padding:16px}.item{padding:8px;border-bottom:1px solid #ddd;display:flex;gap:12px}form{display:grid;gap:8px;max-width:400px}</style>
<script src="${base}/sdk/monitor.js" data-key="${settings.ingestKey}" data-endpoint="${base}" data-replay="1" data-replay-on-error="1" data-mask-text="1" defer></script>
</head><body><nav><button id="t-orders">Orders</button><button id="t-customers">Customers</button><button id="t-settings">Settings</button></nav>
<main><input id="search" placeholder="Search orders"><ul id="list">${items}</ul>
<form id="form" hidden><label>Name <input name="name"></label><label>Email <input name="email"></label><label>Notes <textarea name="notes"></textarea></label><button type="button">Save</button></form></main>
<script>
const list = document.getElementById("list"), form = document.getElementById("form"), all = list.innerHTML;
document.getElementById("search").addEventListener("input", (e) => {
  const q = e.target.value.toLowerCase();
  for (const li of list.children) li.style.display = li.textContent.toLowerCase().includes(q) ? "" : "none";
});
document.getElementById("t-orders").onclick = () => { form.hidden = true; list.hidden = false; list.innerHTML = all; };
document.getElementById("t-customers").onclick = () => { form.hidden = true; list.hidden = false; list.innerHTML = all.replaceAll("Order", "Customer"); };
document.getElementById("t-settings").onclick = () => { list.hidden = true; form.hidden = false; };
</script></body></html>`;
const app = createServer((_, res) => res.writeHead(200, { "Content-Type": "text/html" }).end(page));
await new Promise((r) => app.listen(0, "127.0.0.1", r));
const site = `http://127.0.0.1:${app.address().port}/`;

const perMinute = [];
for (let run = 0; run < 3; run++) {
  const tab = await ctx.newPage();
  await tab.goto(site);
  await tab.waitForFunction(() => window.EcodeReplay !== undefined, null, { timeout: 10_000 });
  const started = Date.now();
  for (let step = 0; Date.now() - started < minute; step++) {
    await tab.mouse.move(100 + ((step * 97) % 900), 100 + ((step * 53) % 600), { steps: 8 });
    switch (step % 6) {
      case 0: await tab.click("#t-orders"); break;
      case 1: await tab.fill("#search", ""); await tab.type("#search", `${1000 + (step % 40)}`, { delay: 60 }); break;
      case 2: await tab.mouse.wheel(0, 400); break;
      case 3: await tab.click("#t-customers"); break;
      case 4: await tab.click("#t-settings"); await tab.type("input[name=name]", "Ada Lovelace", { delay: 50 }); break;
      case 5: await tab.mouse.wheel(0, -400); break;
    }
    await tab.waitForTimeout(1500);
  }
  await tab.close({ runBeforeUnload: true });
  // The last chunk leaves with the page; wait until the session's bytes stop growing.
  let last = -1, session;
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const { replays } = await (await api.get(`${base}/api/projects/${project.id}/monitoring/replays?range=1h`)).json();
    session = replays.sort((a, b) => b.startedAt - a.startedAt)[0];
    if (session && session.bytes === last && i > 4) break;
    last = session?.bytes ?? -1;
  }
  const minutes = Math.max(session.durationMs, 1) / minute;
  perMinute.push(session.bytes / minutes);
  console.log(`session ${run + 1}: ${session.chunks} chunks, ${session.bytes} bytes over ${(session.durationMs / 1000).toFixed(1)} s: ${(session.bytes / minutes / 1024).toFixed(1)} kB per minute`);
}
perMinute.sort((a, b) => a - b);
console.log(`median: ${(perMinute[1] / 1024).toFixed(1)} kB per minute (goal ≤ 100 kB)`);
await browser.close();
app.close();
