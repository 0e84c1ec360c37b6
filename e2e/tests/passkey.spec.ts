import { expect, test, type Page } from "@playwright/test";
import { PASSWORD, signUp, uniqueUser } from "./helpers";

// WebAuthn needs a domain name, never an IP address: these tests reach the
// server at localhost, which the server is told is its passkey origin
// (ECODE_PASSKEY_ORIGIN in playwright.config.ts).
const passkeyURL = process.env.E2E_PASSKEY_URL ?? `http://localhost:${process.env.E2E_PORT ?? 18080}`;
test.use({ baseURL: passkeyURL });

/** A platform authenticator in the page's browser (Chromium's DevTools WebAuthn domain) that keeps synced passkeys and verifies its user. */
async function addVirtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
      defaultBackupEligibility: true,
      defaultBackupState: true,
    },
  });
}

async function logOut(page: Page, user: string) {
  await page.getByRole("button", { name: `Account menu for ${user}` }).click();
  await page.getByRole("menuitem", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
}

/** Settings → Security keys and passkeys → add one named name, answered by the virtual authenticator. */
async function addKey(page: Page, name: string) {
  await page.goto("/settings");
  const section = page.getByRole("region", { name: "Security keys and passkeys" });
  await section.getByRole("button", { name: "Add a security key" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a security key or passkey" });
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Continue" }).click();
  await expect(dialog).toBeHidden();
  await expect(section.getByText(name)).toBeVisible();
  return section;
}

const projects = (page: Page) => page.getByRole("heading", { name: "Projects", exact: true });

test("a person adds a passkey, logs in with it, requires it after the password, and removes it", async ({ page }) => {
  await addVirtualAuthenticator(page);
  const user = uniqueUser("key");
  await signUp(page, user);

  // Settings → Security keys: the requirement waits for a key; add "Laptop key".
  await page.goto("/settings");
  const requireKey = page.getByRole("switch", { name: "Require a security key after the password" });
  await expect(requireKey).toBeDisabled();
  await expect(page.getByText("Add a security key first")).toBeVisible();
  const section = await addKey(page, "Laptop key");
  const keys = section.getByRole("list", { name: "Your security keys" });
  await expect(keys.getByRole("listitem")).toHaveCount(1);
  await expect(keys.getByRole("listitem").first()).toContainText("Laptop key");
  await expect(keys.getByRole("listitem").first()).toContainText("synced passkey");
  await expect(keys.getByRole("listitem").first()).toContainText("never used");

  // Log out, and back in with the passkey alone.
  await logOut(page, user);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(projects(page)).toBeVisible();

  // Require the key after the password.
  await page.goto("/settings");
  await expect(keys.getByRole("listitem").first()).toContainText("last used");
  await expect(requireKey).toBeEnabled();
  await requireKey.click();
  await expect(requireKey).toBeChecked();

  // The password alone is not enough now: the key is asked next.
  await logOut(page, user);
  await page.getByLabel("Username or email").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/login\/second-factor/);
  await expect(page.getByRole("heading", { name: "Confirm it's you" })).toBeVisible();
  await page.getByRole("button", { name: "Use security key" }).click();
  await expect(projects(page)).toBeVisible();

  // The last key stays while logins require it; turned off, it can go.
  await page.goto("/settings");
  await keys.getByRole("button", { name: "Remove Laptop key" }).click();
  const confirm = page.getByRole("alertdialog", { name: "Remove Laptop key?" });
  await confirm.getByRole("button", { name: "Remove key" }).click();
  await expect(confirm.getByRole("alert")).toContainText("turn off");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await requireKey.click();
  await expect(requireKey).not.toBeChecked();
  await keys.getByRole("button", { name: "Remove Laptop key" }).click();
  await confirm.getByRole("button", { name: "Remove key" }).click();
  await expect(confirm).toBeHidden();
  await expect(section.getByText("No security keys yet")).toBeVisible();
  await expect(requireKey).toBeDisabled();
});

test("a passkey the server does not know is refused in plain words", async ({ page }) => {
  await addVirtualAuthenticator(page);
  const user = uniqueUser("gone");
  await signUp(page, user);
  const section = await addKey(page, "Old key");
  // Removed on the server, still kept by the authenticator.
  await section.getByRole("button", { name: "Remove Old key" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Remove key" }).click();
  await expect(section.getByText("No security keys yet")).toBeVisible();

  await logOut(page, user);
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  await expect(page.getByRole("alert")).toContainText("not registered with E-Code");
  await expect(page).toHaveURL(/\/login/);
});
