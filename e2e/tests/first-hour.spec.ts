import { expect, test, type Locator, type Page } from "@playwright/test";
import { createProject, projectId, signUp, uniqueUser } from "./helpers";

// What a new person meets in their first hour, at the size most of them see it.

test.use({ viewport: { width: 1440, height: 900 } });

/** Whether el shows all its content: nothing cut off to the side. */
async function fitsItsContent(el: Locator): Promise<boolean> {
  return el.evaluate((node) => node.scrollWidth <= node.clientWidth);
}

/** Whether inner's box lies inside outer's. */
async function inside(inner: Locator, outer: Locator): Promise<boolean> {
  const a = await inner.boundingBox();
  const b = await outer.boundingBox();
  if (!a || !b) return false;
  return a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;
}

async function openSettingsFromMenu(page: Page, user: string) {
  // Through the menu, not a reload: Settings must trust what sign-up answered.
  await page.getByRole("button", { name: `Account menu for ${user}` }).click();
  await page.getByRole("menuitem", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();
}

test.describe("with passkeys (at localhost)", () => {
  test.use({ baseURL: process.env.E2E_PASSKEY_URL ?? `http://localhost:${process.env.E2E_PORT ?? 18080}` });

  test("right after sign-up, Settings knows the password and lets a new key be required", async ({ page }) => {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    const user = uniqueUser("fresh");
    const sshAnswers: number[] = [];
    page.on("response", (res) => {
      if (new URL(res.url()).pathname === "/api/user/ssh-key") sshAnswers.push(res.status());
    });
    await signUp(page, user);
    await openSettingsFromMenu(page, user);

    const account = page.getByRole("region", { name: "Account", exact: true });
    await expect(account.getByRole("button", { name: "Change password" })).toBeVisible();
    await expect(account.getByRole("button", { name: "Set a password" })).toHaveCount(0);

    // With no key yet the switch waits for one, and stays inside its card.
    const keys = page.getByRole("region", { name: "Security keys and passkeys" });
    const requireKey = page.getByRole("switch", { name: "Require a security key after the password" });
    await expect(requireKey).toBeDisabled();
    expect(await inside(requireKey, keys)).toBe(true);
    expect(await inside(page.getByText("Require a security key after the password"), keys)).toBe(true);

    // No SSH key is an answer, not a 404.
    const ssh = page.getByRole("region", { name: "SSH key" });
    await expect(ssh.getByRole("button", { name: "Create SSH key" })).toBeVisible();
    expect(sshAnswers.length).toBeGreaterThan(0);
    expect(sshAnswers.every((s) => s === 200)).toBe(true);

    // A key added now can be required at once, without a reload.
    await keys.getByRole("button", { name: "Add a security key" }).click();
    const dialog = page.getByRole("dialog", { name: "Add a security key or passkey" });
    await dialog.getByLabel("Name").fill("Laptop key");
    await dialog.getByRole("button", { name: "Continue" }).click();
    await expect(dialog).toBeHidden();
    await expect(requireKey).toBeEnabled();
    expect(await inside(requireKey, keys)).toBe(true);
  });
});

test("the Share dialog's role pickers show their whole labels", async ({ page }) => {
  await signUp(page, uniqueUser("share"));
  await createProject(page, "Shared");
  await page.getByRole("banner").getByRole("button", { name: "Invite" }).click();
  const share = page.getByRole("dialog", { name: "Share Shared" });
  const role = share.getByLabel("Role for the new member");
  await expect(role).toHaveValue("editor");
  expect(await fitsItsContent(role)).toBe(true);
  await role.selectOption("viewer");
  expect(await fitsItsContent(role)).toBe(true);
  expect(await fitsItsContent(share.getByLabel("Link role"))).toBe(true);
});

test("a team's only owner is not offered Leave, and is told why", async ({ page }) => {
  const user = uniqueUser("solo");
  const team = uniqueUser("team");
  await signUp(page, user);
  await page.getByRole("button", { name: "New team" }).click();
  const dialog = page.getByRole("dialog", { name: "New team" });
  await dialog.getByLabel("Team name").fill(team);
  await dialog.getByRole("button", { name: "Create team" }).click();
  await expect(page).toHaveURL(`/@${team}`);
  await page.getByRole("tab", { name: "Members" }).click();
  const me = page.getByTestId("team-member-row").filter({ hasText: user });
  await expect(me).toContainText("the only owner");
  await expect(me.getByRole("button", { name: "Leave" })).toHaveCount(0);
});

test("Ctrl/Cmd-Enter runs a running app again; Stop stops it; the preview shows its whole address", async ({ page }) => {
  test.setTimeout(120_000);
  const user = uniqueUser("rerun");
  await signUp(page, user);
  await createProject(page, "Rerun", "Node.js");
  const id = await projectId(page, user, "rerun");
  const header = page.getByRole("banner");
  const status = header.getByTestId("run-status");
  const current = async () =>
    ((await (await page.request.get(`/api/projects/${id}/runs`)).json()) as { current: { id: string } | null }).current?.id ?? null;

  await header.getByRole("button", { name: "Run", exact: true }).click();
  await expect(status).toHaveText("Running", { timeout: 60_000 });
  const first = await current();
  expect(first).not.toBeNull();

  const host = page.getByTestId("preview-host");
  await expect(host).toBeVisible({ timeout: 30_000 });
  expect(await fitsItsContent(host)).toBe(true);

  await page.keyboard.press("ControlOrMeta+Enter");
  await expect.poll(current, { timeout: 30_000 }).not.toBe(first);
  await expect(status).toHaveText("Running", { timeout: 60_000 });
  await expect(header.getByRole("button", { name: "Stop", exact: true })).toBeVisible();

  await header.getByRole("button", { name: "Stop", exact: true }).click();
  await expect(status).toHaveText("Stopped");
});
