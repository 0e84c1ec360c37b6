import { expect, test, type Page } from "@playwright/test";
import { signUp, uniqueUser } from "./helpers";

// GitHub and Google are played by internal/oauth/oauthtest/cmd/fakeproviders (see
// playwright.config.ts): their consent page asks who logs in there.

/** At the provider's consent page: say who you are there, and approve. */
async function approveAs(page: Page, login: string, email: string) {
  await expect(page.getByRole("heading", { name: /^Sign in to / })).toBeVisible();
  await page.getByLabel("Login").fill(login);
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByRole("button", { name: "Authorize" }).click();
}

/** From the login or sign-up page, through the provider, as login with email there. */
async function continueWith(page: Page, provider: string, login: string, email: string) {
  await page.getByRole("link", { name: `Continue with ${provider}` }).click();
  await approveAs(page, login, email);
}

async function username(page: Page): Promise<string> {
  const res = await page.request.get("/api/auth/me");
  expect(res.ok()).toBeTruthy();
  return ((await res.json()) as { user: { username: string } }).user.username;
}

const projectsHeading = (page: Page) => page.getByRole("heading", { name: "Projects", exact: true });

test("signs up with GitHub, links Google, unlinks GitHub, logs in with Google", async ({ page }) => {
  const login = uniqueUser("gh");
  await page.goto("/login");
  await continueWith(page, "GitHub", login, `${login}@example.com`);
  await expect(projectsHeading(page)).toBeVisible();
  expect(await username(page)).toBe(login);

  await page.goto("/settings");
  const section = page.getByRole("region", { name: "Linked accounts" });
  const github = section.getByRole("listitem").filter({ hasText: "GitHub" });
  await expect(github).toContainText(login);
  // GitHub is the only way in: it can't be unlinked yet.
  await expect(github.getByRole("button", { name: "Unlink GitHub" })).toBeDisabled();

  await section.getByRole("link", { name: "Link Google" }).click();
  await approveAs(page, `${login}g`, `${login}@gmail.example`);
  await expect(page).toHaveURL(/\/settings/);
  await expect(section.getByRole("listitem").filter({ hasText: "Google" })).toContainText(`${login}@gmail.example`);

  await github.getByRole("button", { name: "Unlink GitHub" }).click();
  const dialog = page.getByRole("alertdialog", { name: "Unlink GitHub?" });
  await dialog.getByRole("button", { name: "Unlink" }).click();
  await expect(github).toContainText("Not linked");
  await expect(section.getByRole("button", { name: "Unlink Google" })).toBeDisabled();

  await page.context().clearCookies();
  await page.goto("/login");
  await continueWith(page, "Google", `${login}g`, `${login}@gmail.example`);
  await expect(projectsHeading(page)).toBeVisible();
  expect(await username(page)).toBe(login);
});

test("asks for a username when the provider's is taken", async ({ page }) => {
  const name = uniqueUser("taken");
  await signUp(page, name);
  await page.context().clearCookies();

  await page.goto("/signup");
  await continueWith(page, "GitHub", name, `${name}@elsewhere.example`);
  await expect(page.getByRole("heading", { name: "Choose a username" })).toBeVisible();
  await expect(page.getByText(`“${name}” is already taken`)).toBeVisible();

  await page.getByLabel("Username").fill(name);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText("is taken")).toBeVisible();
  await page.getByLabel("Username").fill(`${name}-2`);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(projectsHeading(page)).toBeVisible();
  expect(await username(page)).toBe(`${name}-2`);
});

test("a provider email never opens an existing account", async ({ page }) => {
  const owner = uniqueUser("owner");
  await signUp(page, owner);
  await page.context().clearCookies();

  await page.goto("/login");
  await continueWith(page, "GitHub", uniqueUser("intruder"), `${owner}@example.com`);
  await expect(page).toHaveURL(/\/login\?error=email_exists/);
  await expect(page.getByRole("alert")).toContainText("already uses the email of your GitHub account");
  await expect(page.getByRole("link", { name: "Continue with GitHub" })).toBeVisible();
  const me = await page.request.get("/api/auth/me");
  expect(me.status()).toBe(401);
});
