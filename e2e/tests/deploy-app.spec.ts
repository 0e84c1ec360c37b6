import { expect, test, type Page } from "@playwright/test";
import { createProject, signUp, uniqueUser } from "./helpers";

// Apps through the Deploy pane: a Node server deployed as autoscale, then as a reserved VM, its
// instances run by the platform behind its edge at {slug}--{owner}.app.localhost (Chromium sends
// every *.localhost name to loopback), with the instances, the traffic and the runtime logs in the pane.

test.describe.configure({ timeout: 240_000 });

const toolTab = (page: Page, name: string) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name });

/** Presses Deploy and waits for release n to be built and live. */
async function deploy(page: Page, n: number) {
  const pane = page.getByTestId("deploy-pane");
  await pane.getByRole("button", { name: "Deploy", exact: true }).click();
  const build = pane.getByRole("region", { name: `Build of release #${n}` });
  await expect(build.getByTestId("release-status")).toHaveText("Ready", { timeout: 90_000 });
  const releases = pane.getByRole("list", { name: "Releases" });
  await expect(releases.getByRole("listitem", { name: `Release #${n}`, exact: true })).toContainText("Live");
}

test("an autoscale app: a cold start through the edge, its instance, its traffic and its access line; then a reserved VM, and back", async ({
  page,
  context,
}) => {
  const owner = uniqueUser("app");
  await signUp(page, owner);
  await createProject(page, "Hello App", "Node.js");
  await toolTab(page, "Deploy").click();
  const pane = page.getByTestId("deploy-pane");
  const types = pane.getByRole("radiogroup", { name: "Deployment type" });
  await types.getByRole("radio", { name: "Autoscale" }).click();
  await expect(pane.getByText("0 scales to zero: the next request starts one.")).toBeVisible();

  // The pane's own checks, then the server's refusal beside the field it names.
  await pane.getByLabel("Run command").fill("node index.js");
  await pane.getByLabel("Min instances").fill("3");
  await pane.getByLabel("Max instances").fill("2");
  await pane.getByRole("button", { name: "Save settings" }).click();
  await expect(pane.getByText("At most the max instances.")).toBeVisible();
  await pane.getByLabel("Min instances").fill("0");
  const health = pane.getByLabel("Health path");
  await health.fill(`/${"a".repeat(1100)}`);
  await pane.getByRole("button", { name: "Save settings" }).click();
  await expect(pane.getByText("[deployment] healthPath: a path such as /health")).toBeVisible();
  await health.fill("");

  await deploy(page, 1);
  const url = (await pane.getByTestId("deployment-url").getAttribute("href")) ?? "";
  expect(url).toMatch(new RegExp(`^http://hello-app--${owner}\\.app\\.localhost:\\d+/$`));

  // The first request goes through the edge, which starts an instance if none runs.
  const site = await context.newPage();
  const res = await site.goto(`${url}from-the-test`);
  expect(res?.status()).toBe(200);
  await expect(site.locator("h1")).toHaveText("Hello from Node.js");
  await site.close();

  const instances = pane.getByTestId("instances");
  await expect(instances.locator('[data-testid="instance"][data-state="ready"]')).toHaveCount(1, { timeout: 15_000 });
  await expect(instances.getByTestId("scale-line")).toContainText("of max 2 instances");

  // The edge counted the request: the requests chart has a point above zero.
  const metrics = pane.getByTestId("metrics");
  await metrics.getByRole("radio", { name: "15m" }).click();
  await expect(metrics.getByTestId("requests-peak")).toHaveText(/^peak (?!0\/s)[\d.]+\/s$/, { timeout: 30_000 });
  await expect(metrics.getByRole("img", { name: /^Requests per second over the last 15 minutes/ })).toBeVisible();

  // The access line, found by a search; the app's own output beside its instance.
  const logs = pane.getByTestId("runtime-logs");
  await expect(logs.locator('[data-testid="log-line"][data-source="app"]').filter({ hasText: "Listening on" }).first()).toBeVisible();
  await logs.getByRole("radio", { name: "Requests" }).click();
  await logs.getByRole("searchbox", { name: "Search the logs" }).fill("from-the-test");
  const access = logs.getByTestId("log-line");
  await expect(access.first()).toContainText("GET /from-the-test 200");
  await expect(access).toHaveCount(1);
  for (const line of await access.all()) await expect(line).toHaveAttribute("data-source", "edge");

  // The same app as a reserved VM: always on, one instance.
  await types.getByRole("radio", { name: "Reserved VM" }).click();
  await expect(pane.getByText("A background worker that opens no port")).toBeVisible();
  await pane.getByRole("textbox", { name: "Instances" }).fill("1");
  await deploy(page, 2);
  await expect(instances.getByTestId("scale-line")).toHaveText("1 of 1 instance running, always on.", { timeout: 30_000 });
  await expect(instances.locator('[data-testid="instance"][data-state="ready"]')).toHaveCount(1, { timeout: 30_000 });
  const again = await context.newPage();
  expect((await again.goto(url))?.status()).toBe(200);
  await expect(again.locator("h1")).toHaveText("Hello from Node.js");

  // Back to the autoscale release, after a confirm: its instance is started and healthy before it
  // takes the traffic, and the VM's drains.
  const releases = pane.getByRole("list", { name: "Releases" });
  const first = releases.getByRole("listitem", { name: "Release #1", exact: true });
  await first.getByRole("button", { name: "Roll back to this" }).click();
  const confirm = page.getByRole("alertdialog");
  await confirm.getByRole("button", { name: "Roll back" }).click();
  await expect(confirm).toBeHidden();
  await expect(first).toContainText("Live");
  await expect(instances.getByTestId("scale-line")).toContainText("of max 2 instances", { timeout: 30_000 });
  expect((await again.reload())?.status()).toBe(200);
  await expect(again.locator("h1")).toHaveText("Hello from Node.js");
});
