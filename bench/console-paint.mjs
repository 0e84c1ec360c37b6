// The SQL console's 10,000-row query in Chromium: from the Run click to the
// first rows of the grid painted, and to the row count shown, five times.
// Usage: node bench/console-paint.mjs http://127.0.0.1:PORT (a server whose
// sign-up is open; bench/console-paint.sh starts one).
import { chromium } from "../e2e/node_modules/playwright-core/index.mjs";

const base = process.argv[2];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
await page.request.post(`${base}/api/auth/signup`, {
  data: { username: "paint", email: "paint@example.com", password: "paint-password-1" },
});
const created = await page.request.post(`${base}/api/projects`, { data: { name: "Paint" } });
const { project } = await created.json();
await page.request.post(`${base}/api/projects/${project.id}/database`, { data: {} });
await page.goto(base + project.url);
await page.getByRole("tab", { name: /Database/ }).click();
await page.getByLabel("Rows kept of each result").selectOption("10000");
await page.locator(".cm-content").last().click();
await page.keyboard.type("SELECT g AS id, md5(g::text) AS hash, now() AS at FROM generate_series(1, 10000) g");
for (let i = 0; i < 5; i++) {
  const started = await page.evaluate(() => performance.now());
  await page.getByTestId("sql-console").getByRole("button", { name: "Run", exact: true }).click();
  const painted = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const seen = () => document.querySelector('[role="grid"] [role="rowgroup"] [role="row"]');
        const check = () => (seen() ? requestAnimationFrame(() => resolve(performance.now())) : requestAnimationFrame(check));
        check();
      }),
  );
  await page.getByTestId("row-count").filter({ hasText: "10,000 rows" }).waitFor();
  console.log(`run ${i + 1}: first rows painted ${(painted - started).toFixed(0)} ms after the click`);
  await page.getByTestId("sql-console").getByRole("button", { name: "Run", exact: true }).waitFor();
  // The next run must not find this run's grid: clear it.
  await page.evaluate(() => document.querySelectorAll('[role="grid"]').forEach((g) => g.remove()));
}
await browser.close();
