import { expect, test } from "@playwright/test";
import { createProject, PASSWORD, signUp, treeItem, uniqueUser } from "./helpers";

test("another person gets a 404 page for a private project, and a read-only view once it is public", async ({ page, browser }) => {
  const owner = uniqueUser("own");
  await signUp(page, owner);
  await createProject(page, "Secret Plans", "Node.js");
  const url = `/@${owner}/secret-plans`;

  const other = await browser.newContext();
  const visitor = await other.newPage();
  await signUp(visitor, uniqueUser("vis"));
  const res = await visitor.goto(url);
  expect(res?.status()).toBe(404);
  await expect(visitor.getByRole("heading", { name: "Project not found" })).toBeVisible();
  await expect(visitor.getByRole("link", { name: "Go to your projects" })).toHaveAttribute("href", "/");

  // The owner makes it public from the dashboard.
  await page.goto("/");
  await page.getByRole("button", { name: "Actions for Secret Plans" }).click();
  await page.getByRole("menuitem", { name: "Make public" }).click();
  await expect(page.getByLabel("Visibility: public")).toBeVisible();

  await visitor.goto(url);
  await expect(visitor.getByTestId("project-name")).toHaveText("Secret Plans");
  await expect(visitor.getByText("Read only").first()).toBeVisible();
  await expect(visitor.getByRole("button", { name: "New file" })).toHaveCount(0);
  await treeItem(visitor, "index.js").click();
  await expect(visitor.getByTestId("editor").locator(".cm-content")).toContainText("createServer");
  await expect(visitor.getByTestId("editor").locator(".cm-content")).toHaveAttribute("aria-readonly", "true");

  // Readers follow runs but can't start them or open shells, and are told why.
  await expect(visitor.getByRole("banner").getByRole("button", { name: "Run", exact: true })).toHaveAttribute("aria-disabled", "true");
  await expect(visitor.getByText("you'll see its output here when the owner runs it")).toBeVisible();
  await visitor.getByRole("tab", { name: "Shell" }).click();
  await expect(visitor.getByRole("heading", { name: "Shells are for the project's members" })).toBeVisible();
  await other.close();
});

test("logging in with a wrong password says so and keeps the person on the form", async ({ page }) => {
  const user = uniqueUser("pw");
  await signUp(page, user);
  await page.getByRole("button", { name: `Account menu for ${user}` }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);

  await page.getByLabel("Username or email").fill(user);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText(/password/i);
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByLabel("Username or email")).toHaveValue(user);

  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Projects", exact: true })).toBeVisible();
});

test("signed-out visitors see the landing page, are sent to log in for their settings, and unknown pages are a 404", async ({
  page,
}) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Write, run and share code from your browser." })).toBeVisible();
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings$/);
  await expect(page.getByRole("heading", { name: "Log in to E-Code" })).toBeVisible();
  const res = await page.goto("/no/such/page");
  expect(res?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
