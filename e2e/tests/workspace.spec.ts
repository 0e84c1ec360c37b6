import { expect, test } from "@playwright/test";
import { createProject, editorContent, newFile, projectId, signUp, startEditing, treeItem, uniqueUser } from "./helpers";

test("a person signs up, writes a file, saves it and finds it again after a reload", async ({ page }) => {
  const user = uniqueUser("ada");
  await signUp(page, user);
  await createProject(page, "Hello World");
  await expect(page).toHaveURL(`/@${user}/hello-world`);

  await newFile(page, "index.js");
  await expect(treeItem(page, "index.js")).toBeVisible();
  await expect(page.getByRole("tab", { name: "index.js" })).toHaveAttribute("aria-selected", "true");

  const text = 'console.log("hello from e2e");';
  await editorContent(page).click();
  await page.keyboard.type(text);
  await expect(page.getByRole("tab", { name: /index\.js/ })).toBeVisible();
  await page.keyboard.press("ControlOrMeta+s");
  await expect(page.getByTestId("save-status")).toHaveText("Saved");

  // The server has exactly what was typed.
  const id = await projectId(page, user, "hello-world");
  const saved = await page.request.get(`/api/projects/${id}/files/index.js`);
  expect(await saved.text()).toBe(text);

  await page.reload();
  await treeItem(page, "index.js").click();
  await expect(editorContent(page)).toHaveText(text);
  await expect(page.getByTestId("language")).toHaveText("JavaScript");

  // The workspace URL works when opened directly.
  const direct = await page.context().newPage();
  const res = await direct.goto(`/@${user}/hello-world`);
  expect(res?.status()).toBe(200);
  await expect(direct.getByTestId("project-name")).toHaveText("Hello World");
  await expect(treeItem(direct, "index.js")).toBeVisible();
});

test("edits are saved as they are typed; offline, the tab marks them kept until the server has them", async ({ page }) => {
  await startEditing(page, { user: "auto", project: "Autosave", file: "notes.md" });
  await page.keyboard.type("# Notes");
  const unsaved = page.getByRole("tab", { name: /notes\.md/ }).getByLabel("unsaved changes");
  await expect(page.getByTestId("save-status")).toHaveText("Saved");
  await expect(unsaved).toHaveCount(0);
  await expect(page.getByTestId("language")).toHaveText("Markdown");

  await page.context().setOffline(true);
  await page.keyboard.type(" (draft)");
  await expect(unsaved).toBeVisible();
  await expect(page.getByTestId("save-status")).toHaveText("Offline — changes kept");
  await page.context().setOffline(false);
  await expect(page.getByTestId("save-status")).toHaveText("Saved");
  await expect(unsaved).toHaveCount(0);
});

test("files are renamed, moved into folders and deleted from the tree", async ({ page }) => {
  const user = uniqueUser("tree");
  await signUp(page, user);
  await createProject(page, "Tree Work");
  await newFile(page, "notes.txt");

  // Rename through the context menu.
  await treeItem(page, "notes.txt").click({ button: "right" });
  await page.getByRole("menuitem", { name: "Rename…" }).click();
  const rename = page.getByRole("dialog", { name: /Rename/ });
  await rename.getByLabel("New path").fill("todo.txt");
  await rename.getByRole("button", { name: "Rename" }).click();
  await expect(treeItem(page, "todo.txt")).toBeVisible();
  await expect(treeItem(page, "notes.txt")).toHaveCount(0);
  await expect(page.getByRole("tab", { name: "todo.txt" })).toBeVisible();

  // A new folder, and a drag of the file onto it.
  await page.getByRole("button", { name: "New folder" }).click();
  const mkdir = page.getByRole("dialog", { name: "New folder" });
  await mkdir.getByLabel("Folder name").fill("docs");
  await mkdir.getByRole("button", { name: "Create" }).click();
  await expect(treeItem(page, "docs")).toBeVisible();
  await treeItem(page, "todo.txt").dragTo(treeItem(page, "docs"));
  await expect(page.getByTestId("file-tree").locator('[data-path="docs/todo.txt"]')).toBeVisible();

  // Delete with confirmation.
  await page.getByTestId("file-tree").locator('[data-path="docs/todo.txt"]').click({ button: "right" });
  await page.getByRole("menuitem", { name: "Delete…" }).click();
  const confirm = page.getByRole("alertdialog", { name: /Delete todo\.txt/ });
  await confirm.getByRole("button", { name: "Delete" }).click();
  await expect(treeItem(page, "todo.txt")).toHaveCount(0);
  await expect(page.getByRole("tab", { name: "todo.txt" })).toHaveCount(0);

  const id = await projectId(page, user, "tree-work");
  const listing = (await (await page.request.get(`/api/projects/${id}/files`)).json()) as { files: { path: string }[] };
  expect(listing.files.map((f) => f.path)).toContain("docs");
  expect(listing.files.map((f) => f.path)).not.toContain("docs/todo.txt");
});

test("search in files finds text and opens the file at the matching line", async ({ page }) => {
  await startEditing(page, { user: "find", project: "Searchable", file: "app.py" });
  await page.keyboard.type("import os");
  await page.keyboard.press("Enter");
  await page.keyboard.type("needle_value = 42");
  await page.keyboard.press("ControlOrMeta+s");
  await expect(page.getByTestId("save-status")).toHaveText("Saved");
  await page.getByLabel("Close app.py").click();
  await expect(page.getByRole("tab", { name: "app.py" })).toHaveCount(0);

  await page.keyboard.press("ControlOrMeta+Shift+f");
  const box = page.getByRole("searchbox", { name: "Search in files" });
  await expect(box).toBeFocused();
  await box.fill("needle_value");
  const result = page.getByRole("button", { name: /app\.py line 2: needle_value = 42/ });
  await expect(result).toBeVisible();
  await result.click();
  await expect(page.getByRole("tab", { name: "app.py" })).toHaveAttribute("aria-selected", "true");
  await expect(page.getByTestId("cursor-position")).toHaveText("Ln 2, Col 1");
});

test("uploads land in the tree, binary files get a notice, quick open and the palette find things", async ({ page }) => {
  await signUp(page, uniqueUser("up"));
  await createProject(page, "Uploads");

  await page.getByTestId("upload-files-input").setInputFiles([
    { name: "readme.txt", mimeType: "text/plain", buffer: Buffer.from("uploaded text\n") },
    { name: "logo.png", mimeType: "image/png", buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]) },
  ]);
  await expect(treeItem(page, "readme.txt")).toBeVisible();
  await expect(treeItem(page, "logo.png")).toBeVisible();

  await treeItem(page, "logo.png").click();
  await expect(page.getByRole("heading", { name: "Binary file" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Download logo.png" })).toBeVisible();
  await expect(page.getByTestId("editor")).toHaveCount(0);

  await page.keyboard.press("ControlOrMeta+p");
  const quick = page.getByRole("dialog", { name: "Go to file" });
  await quick.getByRole("combobox").fill("readme");
  await page.keyboard.press("Enter");
  await expect(quick).toBeHidden();
  await expect(editorContent(page)).toHaveText("uploaded text");

  await page.keyboard.press("ControlOrMeta+k");
  const palette = page.getByRole("dialog", { name: "Command palette" });
  await palette.getByRole("combobox").fill("keyboard shortcuts");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeVisible();
});

test("closing a tab with unsaved changes asks first", async ({ page }) => {
  await startEditing(page, { user: "close", project: "Careful", file: "draft.txt" });
  // Online, every keystroke is on the server at once; offline, closing holds what is not.
  await page.context().setOffline(true);
  await page.keyboard.type("half a thought");
  await page.getByLabel("Close draft.txt").click();
  const ask = page.getByRole("alertdialog", { name: "Save changes to draft.txt?" });
  await expect(ask).toBeVisible();
  await page.context().setOffline(false);
  await ask.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByRole("tab", { name: /draft\.txt/ })).toHaveCount(0);
  await treeItem(page, "draft.txt").click();
  await expect(editorContent(page)).toHaveText("half a thought");
});

test("the tree works from the keyboard", async ({ page }) => {
  await signUp(page, uniqueUser("keys"));
  await createProject(page, "Keyboard", "Python");
  await treeItem(page, ".gitignore").focus();
  await page.keyboard.press("ArrowDown");
  await expect(treeItem(page, "main.py")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("tab", { name: "main.py" })).toHaveAttribute("aria-selected", "true");
  await expect(editorContent(page)).toBeFocused();

  await treeItem(page, "main.py").focus();
  await page.keyboard.press("F2");
  const rename = page.getByRole("dialog", { name: "Rename main.py" });
  await expect(rename.getByLabel("New path")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(rename).toBeHidden();

  await page.keyboard.press("?");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeVisible();
});

test("on a narrow screen the columns become tabs", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 800 });
  await signUp(page, uniqueUser("phone"));
  await createProject(page, "Pocket", "Node.js");
  const tabs = page.getByRole("tablist", { name: "Workspace" });
  for (const name of ["Files", "Code", "Preview", "Console", "Agent"]) {
    await expect(tabs.getByRole("tab", { name })).toBeVisible();
  }
  await treeItem(page, "index.js").click();
  await expect(tabs.getByRole("tab", { name: "Code" })).toHaveAttribute("aria-selected", "true");
  await expect(editorContent(page)).toContainText("createServer");
  await tabs.getByRole("tab", { name: "Console" }).click();
  await expect(page.getByText("Run output appears here")).toBeVisible();
});
