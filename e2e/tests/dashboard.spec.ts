import { expect, test } from "@playwright/test";
import { createProject, signUp, uniqueUser } from "./helpers";

test("projects are renamed and deleted from the dashboard", async ({ page }) => {
  const user = uniqueUser("dash");
  await signUp(page, user);
  await expect(page.getByText("No projects yet")).toBeVisible();
  await createProject(page, "First Draft");
  await page.getByRole("link", { name: "Back to dashboard" }).click();

  const row = page.getByTestId("project-row").filter({ hasText: "First Draft" });
  await expect(row).toContainText(`${user}/first-draft`);
  await expect(row.getByLabel("Visibility: private")).toBeVisible();

  await row.getByRole("button", { name: "Actions for First Draft" }).click();
  await page.getByRole("menuitem", { name: "Rename…" }).click();
  const dialog = page.getByRole("dialog", { name: "Rename project" });
  await dialog.getByLabel("Name").fill("Final Copy");
  await dialog.getByRole("button", { name: "Rename" }).click();
  const renamed = page.getByTestId("project-row").filter({ hasText: "Final Copy" });
  await expect(renamed).toContainText(`${user}/final-copy`);
  await renamed.getByRole("link", { name: "Final Copy" }).click();
  await expect(page).toHaveURL(`/@${user}/final-copy`);
  await expect(page.getByTestId("project-name")).toHaveText("Final Copy");

  await page.goto("/");
  await page.getByRole("button", { name: "Actions for Final Copy" }).click();
  await page.getByRole("menuitem", { name: "Delete…" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Delete project" }).click();
  await expect(page.getByText("No projects yet")).toBeVisible();
  const gone = await page.goto(`/@${user}/final-copy`);
  expect(gone?.status()).toBe(404);
});

test("API tokens are shown once, listed and revoked", async ({ page }) => {
  await signUp(page, uniqueUser("tok"));
  await page.getByRole("button", { name: /Account menu/ }).click();
  await page.getByRole("menuitem", { name: "Settings" }).click();
  await page.getByLabel("Token name").fill("laptop");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = await page.getByTestId("new-token").textContent();
  expect(token).toMatch(/^ecode_/);

  // The token works as a bearer credential.
  const me = await page.request.get("/api/auth/me", { headers: { Authorization: `Bearer ${token}` } });
  expect(me.ok()).toBeTruthy();

  await page.getByRole("button", { name: "Done" }).click();
  await expect(page.getByTestId("new-token")).toHaveCount(0);
  await page.getByRole("button", { name: "Revoke laptop" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Revoke token" }).click();
  await expect(page.getByText("No tokens yet")).toBeVisible();
});

test("an SSH key is made, shown for the git host, replaced and offered when importing over ssh", async ({ page }) => {
  await signUp(page, uniqueUser("ssh"));
  // Importing over ssh without a key points to where the key is made.
  await page.getByRole("button", { name: "New project" }).first().click();
  await page.getByRole("tab", { name: /Import from git/ }).click();
  await page.getByLabel("Repository URL").fill("git@github.com:owner/private-repo.git");
  await expect(page.getByText("E-Code clones ssh addresses with your own SSH key")).toBeVisible();
  await page.getByRole("button", { name: /Import/ }).click();
  await expect(page.getByRole("alert")).toContainText("You have no SSH key yet");
  await expect(page.getByRole("link", { name: "Open your SSH key in Settings" })).toHaveAttribute("href", "/settings#ssh-key");

  await page.goto("/settings");
  await page.getByRole("button", { name: "Create SSH key" }).click();
  const key = page.getByTestId("ssh-public-key");
  await expect(key).toContainText(/^ssh-ed25519 AAAA\S+ ssh\w+@e-code$/);
  const first = await key.textContent();
  await expect(page.getByText(/^SHA256:/)).toBeVisible();

  await page.getByRole("button", { name: "Replace key" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Replace key" }).click();
  await expect(key).not.toHaveText(first ?? "");
  await page.reload();
  await expect(key).toContainText(/^ssh-ed25519 /);
  await expect(key).not.toHaveText(first ?? "");
});
