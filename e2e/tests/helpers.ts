import { expect, type Browser, type Page } from "@playwright/test";

export const PASSWORD = "correct horse battery";

/** A username no earlier run has taken: 3-32 lowercase letters and digits. */
export function uniqueUser(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`.slice(0, 32);
}

export async function signUp(page: Page, username: string) {
  await page.goto("/signup");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Email").fill(`${username}@example.com`);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("heading", { name: "Projects", exact: true })).toBeVisible();
}

/** Another person, signed up in a browser context of their own; close() ends that context. */
export async function person(browser: Browser, prefix: string): Promise<{ page: Page; name: string; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const name = uniqueUser(prefix);
  await signUp(page, name);
  return { page, name, close: () => context.close() };
}

/** Creates a project from a template (by its name in the gallery) and waits for its workspace. */
export async function createProject(page: Page, name: string, template = "Blank") {
  await page.goto("/");
  await page.getByRole("button", { name: "New project" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New project" });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("radio", { name: template, exact: true }).click();
  await expect(dialog.getByRole("radio", { name: template, exact: true })).toBeChecked();
  await dialog.getByRole("button", { name: "Create project" }).click();
  // Creating copies the template and starts the workspace: slower than one assertion's 10 s under load.
  await expect(page.getByTestId("file-tree")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("project-name")).toHaveText(name);
}

export async function newFile(page: Page, path: string) {
  await page.getByRole("button", { name: "New file" }).click();
  const dialog = page.getByRole("dialog", { name: "New file" });
  await dialog.getByLabel("File name").fill(path);
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(dialog).toBeHidden();
}

export function treeItem(page: Page, name: string) {
  return page.getByTestId("file-tree").getByRole("treeitem", { name, exact: true });
}

export function editorContent(page: Page) {
  return page.getByTestId("editor").locator(".cm-content");
}

/** The project's id, read through the API with the page's session. */
export async function projectId(page: Page, owner: string, slug: string): Promise<string> {
  const res = await page.request.get(`/api/users/${owner}/projects/${slug}`);
  expect(res.ok()).toBeTruthy();
  return ((await res.json()) as { project: { id: string } }).project.id;
}

/** A new person with a new blank project, typing in a new file. */
export async function startEditing(page: Page, opts: { user: string; project: string; file: string }) {
  await signUp(page, uniqueUser(opts.user));
  await createProject(page, opts.project);
  await newFile(page, opts.file);
  await editorContent(page).click();
}
