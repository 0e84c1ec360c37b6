import { expect, test, type Page } from "@playwright/test";
import { createProject, person, projectId, signUp, uniqueUser } from "./helpers";

// Shells are the project's: the owner, an editor and a viewer, each in their
// own browser context, against the real sandbox.

test.describe.configure({ timeout: 150_000 });

const toolTab = (page: Page, name: string) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name });
const shellTabs = (page: Page) => page.getByRole("tablist", { name: "Shells" }).getByRole("tab");
const shellTab = (page: Page, title: string) => shellTabs(page).filter({ hasText: title });
const shellPanel = (page: Page, title: string) => page.getByRole("tabpanel", { name: title });
const screen = (page: Page, title: string) => shellPanel(page, title).locator(".xterm-rows");

/** Types a command line into a shell's terminal. */
async function run(page: Page, title: string, line: string) {
  await shellPanel(page, title).getByTestId("shell-terminal").click();
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
}

test("an editor joins the owner's shell and both see its output; a viewer watches read-only; following shows their shell", async ({
  page,
  browser,
}) => {
  const owner = uniqueUser("own");
  await signUp(page, owner);
  await createProject(page, "Shared Shells");
  const id = await projectId(page, owner, "shared-shells");
  const url = `/@${owner}/shared-shells`;
  const editor = await person(browser, "edi");
  const viewer = await person(browser, "vie");
  for (const [username, role] of [
    [editor.name, "editor"],
    [viewer.name, "viewer"],
  ]) {
    expect((await page.request.post(`/api/projects/${id}/members`, { data: { username, role } })).status()).toBe(201);
  }

  // The owner opens the Shell pane: a shell starts, listed under the owner's name.
  await toolTab(page, "Shell").click();
  await expect(shellPanel(page, "Shell 1").getByTestId("shell-status")).toHaveCount(0, { timeout: 30_000 });
  await expect(shellTab(page, "Shell 1")).toContainText(owner);
  await run(page, "Shell 1", "echo owner-$((6*7))");
  await expect(screen(page, "Shell 1")).toContainText("owner-42");

  // The editor finds it in their Shell pane, joins it with a click, sees what it showed, and types.
  await editor.page.goto(url);
  await toolTab(editor.page, "Shell").click();
  await expect(shellTab(editor.page, "Shell 1")).toContainText(owner);
  await shellTab(editor.page, "Shell 1").click();
  await expect(screen(editor.page, "Shell 1")).toContainText("owner-42", { timeout: 30_000 });
  await expect(shellTabs(editor.page)).toHaveCount(1);
  await run(editor.page, "Shell 1", "echo editor-$((7*7))");
  await expect(screen(editor.page, "Shell 1")).toContainText("editor-49");
  await expect(screen(page, "Shell 1")).toContainText("editor-49");

  // The viewer watches: the screen so far and what follows, read-only; their keys go nowhere.
  await viewer.page.goto(url);
  await toolTab(viewer.page, "Shell").click();
  await expect(shellPanel(viewer.page, "Shell 1").getByTestId("shell-readonly")).toContainText("Read-only");
  await expect(screen(viewer.page, "Shell 1")).toContainText("editor-49");
  await expect(viewer.page.getByRole("button", { name: "New shell" })).toHaveCount(0);
  await expect(viewer.page.getByRole("button", { name: /^Close Shell 1/ })).toHaveCount(0);
  await run(viewer.page, "Shell 1", "echo viewer-$((9*9))");
  await run(page, "Shell 1", "echo after-$((8*8))");
  await expect(screen(viewer.page, "Shell 1")).toContainText("after-64");
  await expect(screen(page, "Shell 1")).not.toContainText("viewer-");
  await expect(screen(viewer.page, "Shell 1")).not.toContainText("viewer-");

  // The editor opens a second shell; the owner follows them and is shown it, then back.
  await editor.page.getByRole("button", { name: "New shell" }).click();
  await expect(shellPanel(editor.page, "Shell 2").getByTestId("shell-status")).toHaveCount(0, { timeout: 30_000 });
  await expect(shellTab(page, "Shell 2")).toContainText(editor.name);
  await expect(shellTab(page, "Shell 1")).toHaveAttribute("aria-selected", "true");
  await page.getByRole("button", { name: `Follow ${editor.name}` }).click();
  await expect(shellTab(page, "Shell 2")).toHaveAttribute("aria-selected", "true");
  await run(editor.page, "Shell 2", "echo second-$((5*5))");
  await expect(screen(page, "Shell 2")).toContainText("second-25");
  await shellTab(editor.page, "Shell 1").click();
  await expect(shellTab(page, "Shell 1")).toHaveAttribute("aria-selected", "true");
  await page.getByRole("button", { name: `Stop following ${editor.name}` }).click();

  // The owner closes Shell 1: it ends for everyone watching it.
  await page.getByRole("button", { name: "Close Shell 1 for everyone" }).click();
  await expect(shellPanel(editor.page, "Shell 1").getByTestId("shell-status")).toContainText("The shell exited");
  await expect(shellPanel(viewer.page, "Shell 1").getByTestId("shell-status")).toContainText("The shell exited");
  await expect(shellTab(page, "Shell 1")).toHaveCount(0);

  await editor.close();
  await viewer.close();
});
