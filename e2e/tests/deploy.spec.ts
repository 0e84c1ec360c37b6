import { expect, test, type Page } from "@playwright/test";
import { createProject, person, projectId, signUp, uniqueUser } from "./helpers";

// Static deployments through the Deploy pane, against the real build sandbox and the
// platform's own static serving at {slug}--{owner}.app.localhost (Chromium sends every
// *.localhost name to loopback).

test.describe.configure({ timeout: 180_000 });

const toolTab = (page: Page, name: string) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name });
const releases = (page: Page) => page.getByTestId("deploy-pane").getByRole("list", { name: "Releases" });
const release = (page: Page, n: number) => releases(page).getByRole("listitem", { name: `Release #${n}`, exact: true });

/** Presses Deploy and waits for release n's build to finish as status. */
async function deploy(page: Page, n: number, status: "Ready" | "Failed") {
  const pane = page.getByTestId("deploy-pane");
  await pane.getByRole("button", { name: "Deploy", exact: true }).click();
  const build = pane.getByRole("region", { name: `Build of release #${n}` });
  await expect(build).toBeVisible();
  await expect(build.getByTestId("release-status")).toHaveText(status, { timeout: 60_000 });
  return build;
}

/** The live site's page, as a visitor's browser gets it. */
async function visit(page: Page, url: string) {
  const res = await page.goto(url);
  expect(res?.status()).toBe(200);
  return page.locator("h1");
}

test("a static site: settings, deploy with its log, visit, redeploy, a failed build, roll back and undo", async ({ page, context }) => {
  const owner = uniqueUser("dep");
  await signUp(page, owner);
  await createProject(page, "Static Site");
  const id = await projectId(page, owner, "static-site");
  const write = async (text: string) =>
    expect((await page.request.put(`/api/projects/${id}/files/page.html`, { data: text })).status()).toBe(204);
  await write("<h1>Deployed</h1>\n");

  await toolTab(page, "Deploy").click();
  const pane = page.getByTestId("deploy-pane");
  await expect(pane.getByRole("region", { name: "Live site" })).toContainText("Not deployed yet");

  // Static is the default; every other type can be picked too.
  const types = pane.getByRole("radiogroup", { name: "Deployment type" });
  await expect(types.getByRole("radio", { name: "Static" })).toBeChecked();
  for (const name of ["Autoscale", "Reserved VM", "Scheduled"]) {
    await expect(types.getByRole("radio", { name })).toBeEnabled();
  }

  // A public folder outside the project is refused in the pane; one the server refuses is named beside its field.
  const publicDir = pane.getByLabel("Public folder");
  await publicDir.fill("../elsewhere");
  await pane.getByRole("button", { name: "Save settings" }).click();
  await expect(pane.getByText("A folder inside the project, like dist or public.")).toBeVisible();
  await publicDir.fill("dist//site");
  await pane.getByRole("button", { name: "Save settings" }).click();
  await expect(pane.getByText(/publicDir: "dist\/\/site" is not a folder inside the project/)).toBeVisible();

  // The build copies the page into dist, which is served.
  await pane.getByLabel("Build command").fill("mkdir -p dist && cp page.html dist/index.html && echo copied the page");
  await publicDir.fill("dist");
  const first = await deploy(page, 1, "Ready");
  await expect(first.getByRole("log", { name: "Build log" })).toContainText("copied the page");
  await expect(release(page, 1)).toContainText("Live");
  await expect(release(page, 1)).toContainText(owner);
  const link = pane.getByTestId("deployment-url");
  const url = (await link.getAttribute("href")) ?? "";
  expect(url).toMatch(new RegExp(`^http://static-site--${owner}\\.app\\.localhost:\\d+/$`));
  // The settings went to ecode.toml, where they stay with the project.
  const toml = await (await page.request.get(`/api/projects/${id}/files/ecode.toml`)).text();
  expect(toml).toContain('publicDir = "dist"');

  const site = await context.newPage();
  await expect(await visit(site, url)).toHaveText("Deployed");

  // Change the page and deploy again: release #2 goes live, #1 is kept.
  await write("<h1>Deployed again</h1>\n");
  await deploy(page, 2, "Ready");
  await expect(release(page, 2)).toContainText("Live");
  await expect(release(page, 1)).not.toContainText("Live");
  await expect(await visit(site, url)).toHaveText("Deployed again");

  // A build that fails never takes traffic: it says why, and #2 stays live.
  await pane.getByLabel("Build command").fill("echo about to fail && exit 3");
  const failed = await deploy(page, 3, "Failed");
  await expect(failed.getByRole("alert")).toContainText("Release #2 stays live.");
  await expect(failed.getByRole("log", { name: "Build log" })).toContainText("about to fail");
  await expect(release(page, 2)).toContainText("Live");
  await expect(release(page, 3).getByRole("button", { name: "Roll back to this" })).toHaveCount(0);
  await expect(await visit(site, url)).toHaveText("Deployed again");

  // Roll back to #1, after a confirm; the toast's Undo makes #2 live again.
  await release(page, 1).getByRole("button", { name: "Roll back to this" }).click();
  const confirm = page.getByRole("alertdialog");
  await confirm.getByRole("button", { name: "Roll back" }).click();
  await expect(confirm).toBeHidden();
  await expect(release(page, 1)).toContainText("Live");
  await expect(await visit(site, url)).toHaveText("Deployed");
  const toast = page.locator("[data-sonner-toast]").filter({ hasText: "Release #1 is live" });
  await toast.hover();
  await toast.getByRole("button", { name: "Undo" }).click();
  await expect(release(page, 2)).toContainText("Live");
  await expect(await visit(site, url)).toHaveText("Deployed again");
});

test("a viewer sees the deployment but can't deploy, and is told why", async ({ page, browser }) => {
  const owner = uniqueUser("dpo");
  await signUp(page, owner);
  await createProject(page, "Watched Site");
  const id = await projectId(page, owner, "watched-site");
  const viewer = await person(browser, "dpv");
  expect((await page.request.post(`/api/projects/${id}/members`, { data: { username: viewer.name, role: "viewer" } })).status()).toBe(201);

  await viewer.page.goto(`/@${owner}/watched-site?pane=deploy`);
  const pane = viewer.page.getByTestId("deploy-pane");
  await expect(pane.getByRole("button", { name: "Deploy", exact: true })).toBeDisabled();
  await expect(pane).toContainText("Viewers can't deploy. Ask the project's owner to make you an editor.");
  await expect(pane.getByLabel("Build command")).toBeDisabled();
  await viewer.close();
});

test("a slow build is cancelled from the pane, the live release keeps serving; the header's Deploy and the phone's tab open the pane", async ({
  page,
  context,
}) => {
  const owner = uniqueUser("dpc");
  await signUp(page, owner);
  await createProject(page, "Cancel Site");
  const id = await projectId(page, owner, "cancel-site");
  expect((await page.request.put(`/api/projects/${id}/files/page.html`, { data: "<h1>Still live</h1>\n" })).status()).toBe(204);

  // The header's Deploy opens the pane and says what is live.
  const header = page.getByTestId("header-deploy");
  await expect(header).toHaveAccessibleName("Deploy (Not deployed yet)");
  await header.click();
  const pane = page.getByTestId("deploy-pane");
  await expect(pane).toBeVisible();
  await pane.getByLabel("Build command").fill("mkdir -p dist && cp page.html dist/index.html");
  await pane.getByLabel("Public folder").fill("dist");
  await deploy(page, 1, "Ready");
  await expect(header).toHaveAccessibleName("Deploy (Release #1 is live)");
  const url = (await pane.getByTestId("deployment-url").getAttribute("href")) ?? "";

  // A slow build: cancelled while its sandbox sleeps, it ends at once, says who cancelled it, and #1 stays live.
  await pane.getByLabel("Build command").fill("sleep 20 && mkdir -p dist && echo replaced > dist/index.html");
  await pane.getByRole("button", { name: "Deploy", exact: true }).click();
  const build = pane.getByRole("region", { name: "Build of release #2" });
  await expect(build.getByRole("log", { name: "Build log" })).toContainText("$ sleep 20", { timeout: 60_000 });
  await expect(header).toHaveAccessibleName("Deploy (Release #2 is building)");
  await build.getByRole("button", { name: "Cancel release #2" }).click();
  await expect(build.getByTestId("release-status")).toHaveText("Failed", { timeout: 5_000 });
  await expect(build.getByRole("alert")).toContainText(`Cancelled by ${owner}`);
  await expect(build.getByRole("alert")).toContainText("Release #1 stays live.");
  await expect(build.getByRole("log", { name: "Build log" })).toContainText(`Cancelled by ${owner}`);
  await expect(build.getByRole("button", { name: "Cancel release #2" })).toHaveCount(0);
  await expect(release(page, 1)).toContainText("Live");
  await expect(header).toHaveAccessibleName("Deploy (Release #1 is live)");
  const site = await context.newPage();
  await expect(await visit(site, url)).toHaveText("Still live");
  await site.close();

  // On a phone the Deploy pane is a tab of its own, and the header's Deploy leads to it.
  await page.setViewportSize({ width: 390, height: 844 });
  const tabs = page.getByRole("tablist", { name: "Workspace" });
  await tabs.getByRole("tab", { name: "Files" }).click();
  await expect(pane).toBeHidden();
  await tabs.getByRole("tab", { name: "Deploy" }).click();
  await expect(pane).toBeVisible();
  await expect(release(page, 1)).toContainText("Live");
  await tabs.getByRole("tab", { name: "Code" }).click();
  await expect(pane).toBeHidden();
  await header.click();
  await expect(tabs.getByRole("tab", { name: "Deploy" })).toHaveAttribute("aria-selected", "true");
  await expect(pane).toBeVisible();
});

test("a scheduled job: its schedule said back in words, deploy, next run, Run now with its log, a failing run noticed", async ({
  page,
}) => {
  const owner = uniqueUser("cron");
  await signUp(page, owner);
  await createProject(page, "Nightly Job");
  const id = await projectId(page, owner, "nightly-job");
  expect((await page.request.put(`/api/projects/${id}/files/job.sh`, { data: "echo report sent\n" })).status()).toBe(204);

  await toolTab(page, "Deploy").click();
  const pane = page.getByTestId("deploy-pane");
  await pane.getByRole("radiogroup", { name: "Deployment type" }).getByRole("radio", { name: "Scheduled" }).click();
  await pane.getByLabel("Run command").fill("sh job.sh");
  const schedule = pane.getByRole("textbox", { name: "Schedule" });
  await schedule.fill("every fortnight at 9:00");
  await pane.getByRole("button", { name: "Save settings" }).click();
  await expect(pane.getByText(/schedule: "fortnight" is not a day/)).toBeVisible();
  await schedule.fill("every weekday at 9:00");
  await pane.getByLabel("Time zone").fill("Europe/Paris");
  await pane.getByRole("button", { name: "Save settings" }).click();
  await expect(pane.getByTestId("schedule-sentence")).toContainText("Every weekday at 9:00 (Europe/Paris)");
  await expect(pane.getByTestId("schedule-sentence")).toContainText("0 9 * * 1-5");

  await deploy(page, 1, "Ready");
  await expect(pane.getByRole("region", { name: "Live site" })).toContainText("Scheduled job");
  const runs = pane.getByTestId("scheduled-runs");
  await expect(runs.getByTestId("live-schedule")).toContainText("Every weekday at 9:00 (Europe/Paris)");
  await expect(runs.getByTestId("next-run")).toContainText("Next run");
  await expect(runs).toContainText("No runs yet.");

  await runs.getByRole("button", { name: "Run now" }).click();
  await expect(runs.getByTestId("run-status").first()).toHaveText("Succeeded", { timeout: 60_000 });
  await expect(runs.getByTestId("run-log")).toContainText("report sent");
  await expect(runs).toContainText("exit code 0");

  // A command that fails: the pane says so.
  await pane.getByLabel("Run command").fill("echo broken; exit 4");
  await deploy(page, 2, "Ready");
  await runs.getByRole("button", { name: "Run now" }).click();
  await expect(runs.getByTestId("run-status").first()).toHaveText("Failed", { timeout: 60_000 });
  await expect(runs.getByTestId("run-failed")).toContainText("Exited with code 4.");
  await expect(runs.getByTestId("run-log")).toContainText("broken");
});
