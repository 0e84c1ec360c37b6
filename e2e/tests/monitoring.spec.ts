import { expect, test, type Page } from "@playwright/test";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { createProject, projectId, signUp, uniqueUser } from "./helpers";

// Monitoring end to end: a static site deployed with monitoring switched on gets the SDK in its
// pages without a change to its code; a visitor's real Chromium sends an error, Web Vitals and a
// masked session replay to the platform (cross-origin: the site is on *.app.localhost), and the
// owner finds them through the API and in the deployment's Monitoring tab.

test.describe.configure({ timeout: 240_000 });

// What the visitor types: masked in the replay, so it must never reach the server.
const SECRET = "typed-secret-value";
const SITE = `<!doctype html>
<html>
  <head><meta charset="utf-8"><title>Checkout</title></head>
  <body>
    <h1>Checkout</h1>
    <p>Plain words on the page, masked in replays too.</p>
    <label>Coupon <input name="coupon"></label>
    <button onclick="applyCoupon()">Apply</button>
    <script>
      function applyCoupon() {
        throw new Error("Coupon service rejected the code");
      }
    </script>
  </body>
</html>
`;

// What monitor.js leaves on the page (the IIFE's global).
declare global {
  interface Window {
    EcodeMonitor: {
      captureError: (err: unknown) => void;
      monitoredFetch: (input: string, init?: RequestInit, o?: { retries?: number; backoffMs?: number; timeoutMs?: number }) => Promise<Response>;
    };
  }
}

interface Monitoring {
  ingestKey: string;
  inject: boolean;
  replaySample: number;
  snippet: string;
}

/** The deployed page's HTML as the browser got it (only Chromium sends *.localhost to loopback). */
async function html(page: Page, url: string): Promise<string> {
  const res = await page.goto(url);
  expect(res?.status()).toBe(200);
  return (await res?.text()) ?? "";
}

/** A replay chunk's JSON: the server sends it with Content-Encoding: gzip, which the client may have undone. */
function chunkJSON(body: Buffer): string {
  return (body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body).toString("utf8");
}

test("a deployed site with monitoring: its error, vitals and masked replay arrive and show", async ({ page, context }) => {
  const owner = uniqueUser("mon");
  await signUp(page, owner);
  await createProject(page, "Monitored Site");
  const id = await projectId(page, owner, "monitored-site");
  const api = `/api/projects/${id}/monitoring`;
  expect((await page.request.put(`/api/projects/${id}/files/page.html`, { data: SITE })).status()).toBe(204);

  // Switch the script on for every session, before the first deploy.
  const put = await page.request.put(api, { data: { inject: true, replaySample: 1 } });
  expect(put.status()).toBe(200);
  const settings = (await put.json()) as Monitoring;
  expect(settings).toMatchObject({ inject: true, replaySample: 1 });
  expect(settings.ingestKey).toMatch(/^pk_/);
  expect(settings.snippet).toContain(`data-key="${settings.ingestKey}"`);

  await page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name: "Deploy" }).click();
  const pane = page.getByTestId("deploy-pane");
  await pane.getByLabel("Build command").fill("mkdir -p dist && cp page.html dist/index.html");
  await pane.getByLabel("Public folder").fill("dist");
  await pane.getByRole("button", { name: "Deploy", exact: true }).click();
  await expect(pane.getByRole("region", { name: "Build of release #1" }).getByTestId("release-status")).toHaveText("Ready", {
    timeout: 90_000,
  });
  const url = (await pane.getByTestId("deployment-url").getAttribute("href")) ?? "";
  expect(url).toMatch(/^http:\/\/monitored-site--/);

  // A visitor. The edge wrote the snippet into the page; the platform serves the script it names.
  const site = await context.newPage();
  const pageErrors: string[] = [];
  site.on("pageerror", (e) => pageErrors.push(e.message));
  const served = await html(site, url);
  expect(served).toContain(`data-key="${settings.ingestKey}"`);
  expect(served).toContain("/sdk/monitor.js");
  expect(served).toContain("<h1>Checkout</h1>");
  const script = await page.request.get("/sdk/monitor.js");
  expect(script.status()).toBe(200);
  expect(script.headers()["content-type"]).toContain("javascript");

  // The SDK starts from its tag and, with every session sampled, loads the recorder.
  await site.waitForFunction(() => "EcodeReplay" in window);
  await site.getByLabel("Coupon").pressSequentially(SECRET);
  // The error makes the recorder upload at once, marked as a session with an error.
  const upload = site.waitForResponse((r) => r.url().includes("/api/monitoring/replay?") && r.url().includes("error=1"));
  await site.getByRole("button", { name: "Apply" }).click();
  expect((await upload).status()).toBeLessThan(300);
  expect(pageErrors).toEqual(["Coupon service rejected the code"]);
  // Leaving the page hides it: the SDK sends what it holds, the final vitals among it, by beacon.
  await site.goto("about:blank");
  await site.close();

  // Through the API.
  await expect
    .poll(async () => ((await (await page.request.get(`${api}/errors?range=24h`)).json()) as { groups: { message: string }[] }).groups, {
      timeout: 30_000,
    })
    .toContainEqual(expect.objectContaining({ message: "Coupon service rejected the code", count: 1, status: "open" }));
  const groups = ((await (await page.request.get(`${api}/errors?range=24h`)).json()) as { groups: { fingerprint: string }[] }).groups;
  const detail = (await (await page.request.get(`${api}/errors/${groups[0].fingerprint}`)).json()) as {
    occurrences: { stack: string; session: string }[];
  };
  expect(detail.occurrences[0].stack).toContain("applyCoupon");
  const session = detail.occurrences[0].session;

  type Vital = { name: string; good: number; needsImprovement: number; poor: number };
  type Overview = { vitals: Vital[]; totals: { pageviews: number; browserErrors: number; sessions: number } };
  const overview = async () => (await (await page.request.get(`${api}/overview?range=24h`)).json()) as Overview;
  const seen = (v: Vital) => v.good + v.needsImprovement + v.poor;
  // Counts come from rollups the server writes every few seconds.
  await expect
    .poll(async () => {
      const o = await overview();
      return { vitals: o.vitals.filter((v) => seen(v) > 0).map((v) => v.name), totals: o.totals };
    }, { timeout: 30_000 })
    .toEqual({ vitals: expect.arrayContaining(["FCP", "TTFB", "LCP"]), totals: expect.objectContaining({ pageviews: 1, browserErrors: 1, sessions: 1 }) });

  type Replay = { id: string; chunks: number; hasError: boolean };
  const replays = async () => ((await (await page.request.get(`${api}/replays?range=24h`)).json()) as { replays: Replay[] }).replays;
  await expect.poll(replays, { timeout: 30_000 }).toContainEqual(expect.objectContaining({ id: session, hasError: true }));
  const replay = (await replays()).find((r) => r.id === session);
  expect(replay?.chunks).toBeGreaterThanOrEqual(1);
  const items = ((await (await page.request.get(`${api}/replays/${session}`)).json()) as { items: { seq: number; fullSnapshot: boolean }[] })
    .items;
  expect(items.some((c) => c.fullSnapshot)).toBe(true);
  let recorded = "";
  for (const c of items) {
    const res = await page.request.get(`${api}/replays/${session}/chunks/${c.seq}`);
    expect(res.status()).toBe(200);
    const events = JSON.parse(chunkJSON(await res.body())) as { type: number; timestamp: number }[];
    expect(events.length).toBeGreaterThan(0);
    recorded += JSON.stringify(events);
  }
  // Inputs and text are masked by default; the structure is there.
  expect(recorded).not.toContain(SECRET);
  expect(recorded).not.toContain("Plain words on the page");
  expect(recorded).toContain('"tagName":"button"');

  // Switched off, the pages go out as they were written (the edge caches the setting for seconds).
  expect((await page.request.put(api, { data: { inject: false } })).status()).toBe(200);
  const later = await context.newPage();
  await expect.poll(async () => html(later, url), { timeout: 30_000 }).not.toContain("/sdk/monitor.js");
  expect(await html(later, url)).toContain("<h1>Checkout</h1>");
  await later.close();

  // In the deployment's Monitoring tab: the error, its stack, and the replay beside it.
  await page.getByRole("tablist", { name: "Deployment views" }).getByRole("tab", { name: "Monitoring" }).click();
  await page.getByRole("tablist", { name: "Monitoring sections" }).getByRole("tab", { name: "Errors" }).click();
  await page.getByRole("button", { name: /Coupon service rejected the code/ }).click();
  const errorDetail = page.getByTestId("error-detail");
  await expect(errorDetail.getByRole("heading", { name: /Coupon service rejected the code/ })).toBeVisible();
  await expect(errorDetail.locator("pre")).toContainText("applyCoupon");
  await errorDetail.getByRole("button", { name: "Play replay" }).click();
  const player = page.getByRole("dialog", { name: "Session replay" });
  await expect(player.locator("iframe")).toBeVisible({ timeout: 20_000 });
});

test("the SDK in a page of another origin: monitoredFetch retries and reports, failed requests, SPA page views, replay held until an error", async ({
  page,
  baseURL,
}) => {
  const owner = uniqueUser("sdk");
  await signUp(page, owner);
  await createProject(page, "Sdk Page");
  const id = await projectId(page, owner, "sdk-page");
  const api = `/api/projects/${id}/monitoring`;
  // No session is sampled: the recorder keeps its ring and uploads nothing until an error.
  const put = await page.request.put(api, { data: { replaySample: 0, replayOnError: true } });
  expect(put.status()).toBe(200);
  const { ingestKey } = (await put.json()) as Monitoring;

  // An app of its own on another port, the way a site uses the script tag by hand.
  const hits: Record<string, number> = {};
  const app = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://app").pathname;
    hits[path] = (hits[path] ?? 0) + 1;
    if (path === "/flaky" && hits[path] < 3) {
      res.writeHead(503, { "Retry-After": "1" }).end();
    } else if (path === "/down") {
      res.writeHead(503).end();
    } else if (path === "/missing") {
      res.writeHead(404).end();
    } else if (path === "/slow") {
      setTimeout(() => res.end("late"), 2000);
    } else if (path === "/") {
      res.writeHead(200, { "Content-Type": "text/html" }).end(`<!doctype html><html><head><title>Shop</title>
<script src="${baseURL}/sdk/monitor.js" data-key="${ingestKey}" data-endpoint="${baseURL}" data-replay="0" data-replay-on-error="1" data-mask-text="1" defer></script>
</head><body><h1>Shop</h1></body></html>`);
    } else {
      res.end("ok");
    }
  });
  await new Promise<void>((done) => app.listen(0, "127.0.0.1", done));
  const origin = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  try {
    const site = await page.context().newPage();
    const uploads: string[] = [];
    site.on("request", (r) => r.url().includes("/api/monitoring/replay?") && uploads.push(r.url()));
    await site.goto(`${origin}/`);
    await site.waitForFunction(() => "EcodeReplay" in window);

    const results = await site.evaluate(async () => {
      const sdk = window.EcodeMonitor;
      const started = performance.now();
      const flaky = await (await sdk.monitoredFetch("/flaky", undefined, { retries: 3, backoffMs: 10 })).text();
      const waited = performance.now() - started;
      const down = (await sdk.monitoredFetch("/down", undefined, { retries: 2, backoffMs: 20 })).status;
      const missing = (await sdk.monitoredFetch("/missing")).status;
      const slow = await sdk.monitoredFetch("/slow", undefined, { retries: 0, timeoutMs: 200 }).then(
        () => "answered",
        (e: Error) => e.name,
      );
      await fetch("/missing");
      const xhr = new XMLHttpRequest();
      xhr.open("GET", "/missing");
      await new Promise((done) => {
        xhr.onloadend = done;
        xhr.send();
      });
      history.pushState({}, "", "/cart");
      return { flaky, waited, down, missing, slow };
    });
    // Two 503s with Retry-After: 1 were waited out; 5xx is tried again, a 404 is not.
    expect(results).toMatchObject({ flaky: "ok", down: 503, missing: 404, slow: "TimeoutError" });
    expect(results.waited).toBeGreaterThanOrEqual(2000);
    expect(hits).toMatchObject({ "/flaky": 3, "/down": 3, "/missing": 3, "/slow": 1 });

    expect(uploads).toEqual([]);
    const upload = site.waitForResponse((r) => r.url().includes("/api/monitoring/replay?") && r.url().includes("error=1"));
    await site.evaluate(() => window.EcodeMonitor.captureError(new Error("Reported by hand")));
    expect((await upload).status()).toBeLessThan(300);
    await site.goto("about:blank");
    await site.close();
  } finally {
    app.close();
  }

  type Failed = { method: string; target: string; status: number; count: number };
  type Overview = { failedRequests: Failed[]; totals: { pageviews: number; browserErrors: number } };
  const overview = async () => (await (await page.request.get(`${api}/overview?range=24h`)).json()) as Overview;
  // Counts come from rollups the server writes every few seconds.
  await expect
    .poll(overview, { timeout: 30_000 })
    .toMatchObject({
      totals: { pageviews: 2, browserErrors: 1 },
      failedRequests: expect.arrayContaining([
        { method: "GET", target: `${origin}/missing`, status: 404, count: 3 },
        { method: "GET", target: `${origin}/down`, status: 503, count: 1 },
        { method: "GET", target: `${origin}/slow`, status: 0, count: 1 },
      ]),
    });
  // The retried request that got through in the end is no failure.
  expect((await overview()).failedRequests.map((f) => f.target)).not.toContain(`${origin}/flaky`);
  const groups = ((await (await page.request.get(`${api}/errors?range=24h`)).json()) as { groups: { message: string }[] }).groups;
  expect(groups.map((g) => g.message)).toEqual(["Reported by hand"]);
  const replays = ((await (await page.request.get(`${api}/replays?range=24h`)).json()) as { replays: { id: string; hasError: boolean }[] })
    .replays;
  expect(replays).toEqual([expect.objectContaining({ hasError: true })]);
  // What the ring held starts at the page's full snapshot, so it plays.
  const held = (await (await page.request.get(`${api}/replays/${replays[0].id}`)).json()) as { items: { seq: number; fullSnapshot: boolean }[] };
  expect(held.items[0]).toMatchObject({ seq: 0, fullSnapshot: true });
});
