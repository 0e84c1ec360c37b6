import { expect, test, type Page } from "@playwright/test";
import { createProject, editorContent, newFile, projectId, signUp, treeItem, uniqueUser } from "./helpers";

// Checkpoints (the History tab): made by hand and by themselves, opened to what changed,
// restored and undone; and forking a public project. The server here checkpoints a
// project once its edits have settled for 1 s (ECODE_AUTO_CHECKPOINT in playwright.config.ts).

const historyTab = (page: Page) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name: "History" });
const checkpoints = (page: Page) => page.getByRole("list", { name: "Checkpoints" });

/** Replaces the active editor's text and saves it. */
async function replaceText(page: Page, text: string) {
  await editorContent(page).click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText(text);
  await page.keyboard.press("ControlOrMeta+s");
  await expect(page.getByTestId("save-status")).toHaveText("Saved");
}

test("a person checkpoints, restores an old checkpoint and undoes the restore from its toast", async ({ page }) => {
  await signUp(page, uniqueUser("hist"));
  await createProject(page, "Notebook");
  await newFile(page, "notes.txt");
  await replaceText(page, "old text");

  await historyTab(page).click();
  const pane = page.getByTestId("history-pane");
  await pane.getByLabel("Checkpoint message").fill("first");
  await pane.getByRole("button", { name: "Checkpoint" }).click();
  const first = checkpoints(page).getByRole("listitem", { name: "first" });
  await expect(first).toBeVisible();

  await replaceText(page, "new text");
  await first.getByRole("button", { name: /Restore/ }).click();
  const confirm = page.getByRole("alertdialog");
  await expect(confirm).toContainText("Unsaved changes are kept as a checkpoint first");
  await confirm.getByRole("button", { name: "Restore" }).click();
  await expect(confirm).toBeHidden();

  await expect(editorContent(page)).toHaveText("old text");
  const toast = page.locator("[data-sonner-toast]").filter({ hasText: /Restored to [0-9a-f]+/ });
  await expect(toast).toBeVisible();
  // "new text" was kept first: by the checkpoint before the restore, or an automatic one if it came sooner.
  await expect(checkpoints(page).getByRole("listitem").nth(1)).toContainText(/Before restoring|Auto: 1 file changed/);

  await toast.getByRole("button", { name: "Undo" }).click();
  await expect(editorContent(page)).toHaveText("new text");
});

test("edits are checkpointed by themselves, and opening the checkpoint shows what changed", async ({ page }) => {
  const owner = uniqueUser("auto");
  await signUp(page, owner);
  await createProject(page, "Drafts");
  const id = await projectId(page, owner, "drafts");
  const put = await page.request.put(`/api/projects/${id}/files/poem.txt`, { data: "roses are red\nviolets are blue\n" });
  expect(put.ok()).toBeTruthy();
  await historyTab(page).click();

  const autos = checkpoints(page).getByRole("listitem", { name: "Auto: 1 file changed: poem.txt" });
  await expect(autos).toHaveCount(1, { timeout: 15_000 });
  await expect(autos.getByText("Auto", { exact: true })).toBeVisible();
  await autos.getByRole("button", { name: /Auto: 1 file changed/ }).click();

  const changes = page.getByTestId("checkpoint-changes");
  const file = changes.getByRole("list", { name: "Changed files" }).getByRole("listitem");
  await expect(file).toHaveCount(1);
  await expect(file).toContainText("poem.txt");
  await expect(file).toContainText("created");
  await expect(file).toContainText("+2 −0");
  await expect(file.getByTestId("diff")).toContainText("+roses are red");
  await expect(file.getByTestId("diff")).toContainText("+violets are blue");

  // An edit in the editor: a checkpoint of its own; from the first one, "Since then" shows it.
  await treeItem(page, "poem.txt").click();
  await replaceText(page, "roses are red\nviolets are violet\n");
  await expect(autos).toHaveCount(2, { timeout: 15_000 });
  await changes.getByRole("button", { name: "Since then" }).click();
  await expect(changes.getByTestId("diff")).toContainText("-violets are blue");
  await expect(changes.getByTestId("diff")).toContainText("+violets are violet");
});

test("another person forks a public project and lands in their own editable copy", async ({ page, browser }) => {
  const owner = uniqueUser("forko");
  await signUp(page, owner);
  await createProject(page, "Shared Notes");
  await newFile(page, "readme.txt");
  await replaceText(page, "hello from the original");
  const id = await projectId(page, owner, "shared-notes");
  expect((await page.request.patch(`/api/projects/${id}`, { data: { visibility: "public" } })).ok()).toBeTruthy();

  const other = await browser.newContext();
  const visitor = await other.newPage();
  const forker = uniqueUser("forkv");
  await signUp(visitor, forker);
  await visitor.goto(`/@${owner}/shared-notes`);
  await expect(visitor.getByText("Read only").first()).toBeVisible();

  const header = visitor.getByRole("banner");
  await header.getByRole("button", { name: "Fork", exact: true }).click();
  const dialog = visitor.getByRole("dialog", { name: "Fork Shared Notes" });
  await expect(dialog.getByLabel("Name")).toHaveValue("Shared Notes");
  await dialog.getByRole("button", { name: "Fork", exact: true }).click();

  await expect(visitor).toHaveURL(new RegExp(`/@${forker}/shared-notes$`));
  await expect(visitor.getByTestId("project-name")).toHaveText("Shared Notes");
  await expect(visitor.getByText("Read only")).toHaveCount(0);
  await expect(visitor.getByRole("button", { name: "New file" })).toBeVisible();
  await treeItem(visitor, "readme.txt").click();
  await expect(editorContent(visitor)).toHaveText("hello from the original");
  await expect(editorContent(visitor)).not.toHaveAttribute("aria-readonly", "true");

  // Forking again under a name they already have says so and keeps the dialog open.
  await visitor.goto(`/@${owner}/shared-notes`);
  await header.getByRole("button", { name: "Fork", exact: true }).click();
  await dialog.getByRole("button", { name: "Fork", exact: true }).click();
  await expect(dialog.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(dialog).toBeVisible();
  await other.close();
});
