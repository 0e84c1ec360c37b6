import { expect, test, type Page } from "@playwright/test";
import { editorContent, projectId, signUp, startEditing, treeItem, uniqueUser } from "./helpers";

// The AI agent and inline completion, against the scripted model
// (bench/agent/scripted-model): for a prompt with "hello page" it writes
// server.js, starts the app, checks it and finishes; every completion it
// answers is the same line. Deployments answer at {slug}--{owner}.app.localhost,
// which Chromium sends to loopback.

const COMPLETION = 'console.log("completed by the model");';

const toolTab = (page: Page, name: string) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name });
const resultTab = (page: Page, name: string) =>
  page.getByTestId("agent-pane").getByRole("tablist", { name: "Run result" }).getByRole("tab", { name });

test("a person builds an app from one prompt, watches the agent, deploys it, previews it and rolls it back", async ({
  page,
  context,
}) => {
  test.setTimeout(240_000);
  const user = uniqueUser("agent");
  await signUp(page, user);

  await page.getByRole("button", { name: "Build with AI" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Build with AI" });
  await dialog.getByLabel("What should it be?").fill("Build a hello page");
  await expect(dialog.getByLabel("Project name (optional)")).toHaveAttribute("placeholder", "build-a-hello-page");
  await dialog.getByRole("button", { name: "Build it" }).click();

  // The workspace opens on the agent, which streams its steps.
  await expect(page).toHaveURL(`/@${user}/build-a-hello-page?pane=agent`);
  await expect(toolTab(page, "Agent")).toHaveAttribute("aria-selected", "true");
  const pane = page.getByTestId("agent-pane");
  await expect(pane.getByText("Build a hello page").first()).toBeVisible();
  const write = pane.getByRole("list", { name: "Agent steps" }).locator('[data-tool="write_file"]').filter({ hasText: "server.js" });
  await expect(write).toBeVisible({ timeout: 60_000 });
  await expect(pane.getByRole("region", { name: "Done" })).toBeVisible({ timeout: 90_000 });
  await expect(pane.getByTestId("agent-status")).toHaveText("Done");
  await expect(pane.getByTestId("agent-progress")).toHaveCount(0);
  await expect(treeItem(page, "server.js")).toBeVisible();

  // A tool row opens to its input and the diff it made.
  await write.getByRole("button").click();
  await expect(write.getByTestId("diff")).toContainText("Hello from the agent");

  // The result's tabs: the files it wrote, the running app, its features.
  await resultTab(page, "Files").click();
  await expect(pane.getByRole("list", { name: "Changed files" })).toContainText("server.js");
  await resultTab(page, "Features").click();
  await expect(pane.getByRole("list", { name: "Features" }).getByRole("listitem").first()).toBeVisible();
  // It started an app, so deploying it is one click as autoscale: the type is saved to the project's
  // settings, the Deploy pane opens on the build, and the server answers at the deployment's address.
  await resultTab(page, "Deploy").click();
  await expect(pane.getByRole("button", { name: "Deploy as a static site" })).toHaveCount(0);
  await expect(pane.getByRole("button", { name: "Other kinds of deployment…" })).toBeVisible();
  await pane.getByRole("button", { name: "Deploy as autoscale" }).click();
  await expect(toolTab(page, "Deploy")).toHaveAttribute("aria-selected", "true");
  const deployPane = page.getByTestId("deploy-pane");
  const types = deployPane.getByRole("radiogroup", { name: "Deployment type" });
  await expect(types.getByRole("radio", { name: "Autoscale" })).toBeChecked();
  const build = deployPane.getByRole("region", { name: "Build of release #1" });
  await expect(build.getByTestId("release-status")).toHaveText("Ready", { timeout: 90_000 });
  const url = (await deployPane.getByTestId("deployment-url").getAttribute("href")) ?? "";
  expect(url).toMatch(new RegExp(`^http://build-a-hello-page--${user}\\.app\\.localhost:\\d+/$`));
  const site = await context.newPage();
  expect((await site.goto(url))?.status()).toBe(200);
  await expect(site.locator("h1")).toHaveText("Hello from the agent");
  await site.close();
  await toolTab(page, "Agent").click();
  await resultTab(page, "Preview").click();
  await expect(pane.frameLocator('iframe[title="Preview"]').getByText("Hello from the agent")).toBeVisible({
    timeout: 30_000,
  });

  // Rolling back to before the agent started takes its file away; the toast's Undo brings it back.
  await resultTab(page, "Files").click();
  const before = pane.getByRole("list", { name: "Agent checkpoints" }).getByRole("listitem", { name: "Before the agent started" });
  await before.getByRole("button", { name: "Roll back to here" }).click();
  const confirm = page.getByRole("alertdialog");
  await confirm.getByRole("button", { name: "Roll back" }).click();
  await expect(confirm).toBeHidden();
  await expect(treeItem(page, "server.js")).toHaveCount(0);
  const id = await projectId(page, user, "build-a-hello-page");
  expect((await page.request.get(`/api/projects/${id}/files/server.js`)).status()).toBe(404);

  // The tab of server.js (the main file, open since the agent wrote it) closes with a toast of its own:
  // the stack opens under the pointer, as it does for a person reaching for Undo.
  await page.locator("[data-sonner-toast]").first().hover();
  await page.locator("[data-sonner-toast]").filter({ hasText: /Restored to/ }).getByRole("button", { name: "Undo" }).click();
  await expect(treeItem(page, "server.js")).toBeVisible();

  // The run is listed among the project's runs.
  await pane.getByRole("button", { name: "Earlier runs" }).click();
  await expect(page.getByRole("menuitem", { name: /Build a hello page/ })).toBeVisible();
});

test("inline completion shows the model's guess as ghost text; Tab takes it and Escape drops it", async ({ page }) => {
  await startEditing(page, { user: "ghost", project: "Ghost Text", file: "index.js" });
  await page.keyboard.type("const x = 1;");
  const ghost = editorContent(page).locator(".cm-inline-suggestion");
  await expect(ghost).toHaveText(COMPLETION);

  await page.keyboard.press("Tab");
  await expect(ghost).toHaveCount(0);
  await expect(editorContent(page)).toHaveText(`const x = 1;${COMPLETION}`);

  // Typing on asks again; Escape dismisses the guess and leaves the text alone.
  await page.keyboard.press("Enter");
  await expect(ghost).toHaveText(COMPLETION);
  await page.keyboard.press("Escape");
  await expect(ghost).toHaveCount(0);
  await expect(editorContent(page)).toHaveText(`const x = 1;${COMPLETION}`);
  await expect(page.getByTestId("save-status")).toHaveText("Saved", { timeout: 5_000 });
});
