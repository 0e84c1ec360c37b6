import { execFileSync } from "node:child_process";
import { expect, test, type Page } from "@playwright/test";
import { createProject, PASSWORD, signUp, uniqueUser } from "./helpers";

async function logIn(page: Page, login: string, password = PASSWORD) {
  await page.goto("/login");
  await page.getByLabel("Username or email").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Projects", exact: true })).toBeVisible();
}

test("a person sees where they are logged in and logs another session out", async ({ page, browser }) => {
  const user = uniqueUser("sess");
  await signUp(page, user);
  const other = await browser.newContext();
  const phone = await other.newPage();
  await logIn(phone, user);

  await page.goto("/settings");
  const list = page.getByRole("list", { name: "Your sessions" });
  await expect(list.getByRole("listitem")).toHaveCount(2);
  await expect(list.getByRole("listitem").first()).toContainText("This device");
  await list.getByRole("button", { name: /^Log out / }).click();
  await expect(list.getByRole("listitem")).toHaveCount(1);

  // The other browser is logged out at its next request: / is the landing page again.
  await phone.reload();
  await expect(phone.getByRole("navigation", { name: "Account" }).getByRole("link", { name: "Log in" })).toBeVisible();
  await other.close();

  // The security log says so, with every login before it.
  await page.reload();
  const log = page.getByRole("list", { name: "Security log" });
  await expect(log.getByRole("listitem").first()).toContainText("Session logged out");
  await expect(log).toContainText("Logged in");
  await expect(log).toContainText("Account created");
});

test("a person renames their account, changes the password and finally deletes the account", async ({ page }) => {
  const user = uniqueUser("acct");
  await signUp(page, user);
  await createProject(page, "Doomed");

  await page.goto("/settings");
  const account = page.getByRole("region", { name: "Account", exact: true });
  await account.getByRole("button", { name: "Edit" }).click();
  await account.getByLabel("Username").fill(`${user}x`);
  await account.getByRole("button", { name: "Save" }).click();
  await expect(account).toContainText(`${user}x`);

  await account.getByRole("button", { name: "Change password" }).click();
  await account.getByLabel("Current password").fill("not it at all");
  await account.getByLabel("New password", { exact: true }).fill("a brand new secret");
  await account.getByLabel("New password again").fill("a brand new secret");
  await account.getByRole("button", { name: "Change password" }).click();
  await expect(account.getByText("Your current password is not right.")).toBeVisible();
  await account.getByLabel("Current password").fill(PASSWORD);
  await account.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed")).toBeVisible();

  await page.getByRole("button", { name: "Delete my account" }).click();
  const dialog = page.getByRole("dialog", { name: "Delete your account?" });
  const confirm = dialog.getByRole("button", { name: "Delete account" });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel("Username").fill(`${user}x`);
  await dialog.getByLabel("Password").fill("a brand new secret");
  await confirm.click();
  await expect(page).toHaveURL(/\/login/);

  // Gone: the old password does not log in, and the project's page is not there.
  await page.getByLabel("Username or email").fill(`${user}x`);
  await page.getByLabel("Password").fill("a brand new secret");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("alert")).toContainText("do not match");
  expect((await page.request.get(`/api/users/${user}x/projects/doomed`)).status()).toBe(404);
});

test("an administrator searches every account's audit log and verifies its chain", async ({ page }) => {
  const user = uniqueUser("admin");
  await signUp(page, user);
  // The operator names an administrator with the binary, as on a real server.
  execFileSync("../bin/ecode", ["admin", "grant-admin", "-username", user], {
    env: { ...process.env, ECODE_DATA_DIR: process.env.ECODE_E2E_DATA_DIR ?? "" },
  });
  await page.goto("/settings");
  const section = page.getByRole("region", { name: "Audit log (all accounts)" });
  await expect(section).toBeVisible();
  await section.getByLabel("Action").selectOption("admin");
  await expect(section.getByRole("list", { name: "Audit log" })).toContainText("Made a platform administrator");
  await section.getByRole("button", { name: "Verify chain" }).click();
  await expect(section.getByRole("status")).toContainText("The chain holds");
});
