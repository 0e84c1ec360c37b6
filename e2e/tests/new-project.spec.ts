import { expect, test, type Page } from "@playwright/test";
import { createProject, signUp, treeItem, uniqueUser } from "./helpers";

async function openNewProject(page: Page) {
  await page.goto("/");
  await page.getByRole("button", { name: "New project" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New project" });
  await expect(dialog).toBeVisible();
  return dialog;
}

test("the template gallery shows every template with its tags, and Go starts a Go project", async ({ page }) => {
  await signUp(page, uniqueUser("gal"));
  const dialog = await openNewProject(page);

  const gallery = dialog.getByRole("radiogroup", { name: "Template" });
  const express = gallery.getByRole("radio", { name: "Express API", exact: true });
  const blog = gallery.getByRole("radio", { name: "Next.js Blog", exact: true });
  await expect(express).toBeVisible();
  await expect(blog).toBeVisible();
  for (const tag of ["node", "express", "api", "rest"]) {
    await expect(express.getByText(tag, { exact: true })).toBeVisible();
  }
  for (const tag of ["react", "nextjs", "typescript", "markdown", "blog"]) {
    await expect(blog.getByText(tag, { exact: true })).toBeVisible();
  }
  await expect(express).toContainText("notes CRUD");
  // A runnable template is chosen until the person picks another.
  await expect(gallery.getByRole("radio", { name: "Node.js", exact: true })).toBeChecked();

  // The search box has the focus and filters by name, description and tags.
  const search = dialog.getByRole("searchbox", { name: "Search templates" });
  await expect(search).toBeFocused();
  await search.fill("markdown");
  await expect(gallery.getByRole("radio")).toHaveCount(1);
  await expect(blog).toBeVisible();
  await search.fill("no such stack");
  await expect(dialog.getByText("No templates match “no such stack”.")).toBeVisible();
  await dialog.getByRole("button", { name: "Clear search" }).click();
  await expect(search).toHaveValue("");
  await expect(gallery.getByRole("radio")).toHaveCount(8);

  // Radio-group keyboard: Tab enters at the chosen card, arrows move the choice.
  await search.focus();
  await page.keyboard.press("Tab");
  await expect(gallery.getByRole("radio", { name: "Node.js", exact: true })).toBeFocused();
  await page.keyboard.press("ArrowRight");
  const python = gallery.getByRole("radio", { name: "Python", exact: true });
  await expect(python).toBeChecked();
  await expect(python).toBeFocused();

  await gallery.getByRole("radio", { name: "Go", exact: true }).click();
  await expect(gallery.getByRole("radio", { name: "Go", exact: true })).toBeChecked();
  await expect(python).not.toBeChecked();
  await dialog.getByLabel("Name").fill("Gopher");
  await dialog.getByRole("button", { name: "Create project" }).click();

  await expect(page.getByTestId("file-tree")).toBeVisible();
  await expect(page.getByTestId("project-name")).toHaveText("Gopher");
  await expect(treeItem(page, "main.go")).toBeVisible();
  await expect(treeItem(page, "go.mod")).toBeVisible();
});

test("importing a git repository that doesn't exist says why inline and creates nothing", async ({ page }) => {
  const user = uniqueUser("git");
  await signUp(page, user);
  await createProject(page, "Already Here");
  const before = (await (await page.request.get("/api/projects")).json()) as { projects: { id: string }[] };
  expect(before.projects).toHaveLength(1);

  const dialog = await openNewProject(page);
  await dialog.getByRole("tab", { name: "Import from git" }).click();
  const url = dialog.getByLabel("Repository URL");
  const name = dialog.getByLabel("Name");

  // Addresses that are plainly not a repository's are caught before asking the server.
  await url.fill("github.com/x/y");
  await dialog.getByRole("button", { name: "Import project" }).click();
  await expect(dialog.getByText(/starts with https:\/\/ or ssh:\/\//)).toBeVisible();
  await expect(url).toHaveAttribute("aria-invalid", "true");

  // The name follows the repository's until the person types their own.
  await url.fill("https://github.invalid/x/y.git");
  await expect(dialog.getByText(/starts with https:\/\/ or ssh:\/\//)).toHaveCount(0);
  await expect(name).toHaveValue("y");

  // Hold the answer back a moment so the cloning state can be seen.
  let posts = 0;
  await page.route("**/api/projects", async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    posts++;
    expect(route.request().postDataJSON()).toMatchObject({ name: "y", gitUrl: "https://github.invalid/x/y.git" });
    await new Promise((r) => setTimeout(r, 1500));
    await route.continue();
  });
  await dialog.getByRole("button", { name: "Import project" }).click();
  const cloning = dialog.getByRole("button", { name: "Cloning…" });
  await expect(cloning).toBeVisible();
  await expect(cloning).toBeDisabled();
  await expect(dialog.getByRole("status")).toContainText("Cloning github.invalid/x/y");
  await page.keyboard.press("Escape");
  await expect(dialog).toBeVisible();

  const alert = dialog.getByRole("alert");
  await expect(alert).toBeVisible({ timeout: 30_000 });
  await expect(alert).not.toBeEmpty();
  expect(posts).toBe(1);
  // What the person typed is still there, ready to fix and retry.
  await expect(dialog).toBeVisible();
  await expect(url).toHaveValue("https://github.invalid/x/y.git");
  await expect(name).toHaveValue("y");
  await expect(dialog.getByRole("button", { name: "Import project" })).toBeEnabled();

  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("project-row")).toHaveCount(1);
  await expect(page.getByTestId("project-row")).toContainText("Already Here");
  const after = (await (await page.request.get("/api/projects")).json()) as { projects: { id: string }[] };
  expect(after.projects.map((p) => p.id)).toEqual(before.projects.map((p) => p.id));
});
