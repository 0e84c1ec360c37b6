import { expect, test, type Locator, type Page } from "@playwright/test";
import { createProject, editorContent, PASSWORD, projectId, signUp, uniqueUser } from "./helpers";

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

test("a signed-out visitor at / sees what E-Code is, and Build with AI keeps their prompt through sign-up", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Write, run and share code");
  await expect(page.getByRole("list").getByRole("listitem")).toHaveCount(4);
  const nav = page.getByRole("navigation", { name: "Account" });
  await expect(nav.getByRole("link", { name: "Log in" })).toHaveAttribute("href", "/login");
  await expect(nav.getByRole("link", { name: "Sign up" })).toHaveAttribute("href", "/signup");

  const prompt = "A guest book:\nvisitors leave their name and a note";
  await page.getByLabel("Describe an app and let the agent build it").fill(prompt);
  await page.getByRole("button", { name: "Build with AI" }).click();
  await expect(page).toHaveURL(/\/signup\?next=/);
  const user = uniqueUser("land");
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Email").fill(`${user}@example.com`);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  const dialog = page.getByRole("dialog", { name: "Build with AI" });
  await expect(dialog.getByLabel("What should it be?")).toHaveValue(prompt);
  await expect(page).toHaveURL(/\/$/);
  // Taken once: closing and reloading does not bring it back.
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await page.reload();
  await expect(page.getByRole("heading", { name: "Projects", exact: true })).toBeVisible();
  await expect(page.getByRole("dialog")).toHaveCount(0);
});

test("a new project starts runnable, with its main file open; Blank's run error shows once", async ({ page }) => {
  await signUp(page, uniqueUser("main"));
  await page.getByRole("button", { name: "New project" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New project" });
  await expect(dialog.getByRole("radio", { name: "Node.js", exact: true })).toBeChecked();
  await dialog.getByLabel("Name").fill("Starter");
  await dialog.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("tab", { name: "index.js" })).toHaveAttribute("aria-selected", "true");
  await expect(editorContent(page)).toContainText("createServer");

  // Closed, the centre offers the main file again.
  await page.getByRole("button", { name: "Close index.js" }).click();
  await page.getByRole("button", { name: "Open index.js" }).click();
  await expect(editorContent(page)).toContainText("createServer");

  await createProject(page, "Empty", "Blank");
  await page.getByRole("banner").getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByTestId("run-error")).toHaveCount(1);
  await expect(page.getByTestId("run-error")).toContainText("ecode.toml");
});

test("the tools column has room by default, keeps the size a person gives it, and the shell fits it", async ({ page }) => {
  test.setTimeout(120_000);
  const user = uniqueUser("room");
  await signUp(page, user);
  await createProject(page, "Roomy", "Node.js");
  const tools = page.getByRole("tablist", { name: "Tools" });
  const width = async () => (await tools.boundingBox())?.width ?? 0;
  expect(await width()).toBeGreaterThan(1440 * 0.4);
  await page.screenshot({ path: test.info().outputPath("workspace-1440.png") });

  // The shell's columns follow its pane, and the sandbox's terminal knows them.
  await tools.getByRole("tab", { name: "Shell" }).click();
  const shell = page.getByRole("textbox", { name: /shell/i }).first();
  await expect(shell).toBeAttached({ timeout: 30_000 });
  const cols = async () => {
    await shell.focus();
    await page.keyboard.type("echo cols=$(stty size | cut -d' ' -f2)\n");
    const text = (await page.locator(".xterm-rows").last().innerText()).match(/cols=(\d+)/g) ?? [];
    return Number(text.at(-1)?.slice(5) ?? 0);
  };
  await expect.poll(cols, { timeout: 30_000 }).toBeGreaterThanOrEqual(70);

  // Made narrower by hand: the size is kept across projects and reloads.
  const before = await width();
  await page.getByRole("separator", { name: "Resize tools column" }).focus();
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowRight");
  const narrowed = await width();
  expect(narrowed).toBeLessThan(before - 20);
  expect(narrowed).toBeGreaterThan(200);
  await createProject(page, "Second", "Python");
  await expect.poll(width).toBeCloseTo(narrowed, -1);

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: test.info().outputPath("workspace-1280.png") });
});

test("the dashboard shows each project's language, last edit and run state, and searches and sorts", async ({ page }) => {
  test.setTimeout(120_000);
  const user = uniqueUser("dash");
  await signUp(page, user);
  await createProject(page, "Zebra API", "Python");
  await createProject(page, "Apple Site", "Node.js");
  const id = await projectId(page, user, "apple-site");
  await page.goto("/");
  const rows = page.getByRole("list", { name: "Your projects" }).getByTestId("project-row");
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText("Apple Site");
  await expect(rows.first().getByTestId("project-edited")).toContainText(/edited (just now|\d+ seconds? ago)/);
  await expect(rows.first().getByTestId("project-run-state")).toHaveText("Stopped");

  // Run state is live: started elsewhere, the list follows.
  expect((await page.request.post(`/api/projects/${id}/run`)).status()).toBe(202);
  await expect(rows.first().getByTestId("project-run-state")).toHaveText("Running", { timeout: 30_000 });

  const sort = page.getByLabel("Sort by");
  await sort.selectOption("name");
  await expect(rows.first()).toContainText("Apple Site");
  await expect(rows.last()).toContainText("Zebra API");

  const search = page.getByRole("searchbox", { name: "Search projects" });
  await search.fill("python");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("Zebra API");
  await search.fill("nothing like it");
  await expect(page.getByText("No projects match “nothing like it”")).toBeVisible();
  await page.getByRole("button", { name: "Clear search" }).click();
  await expect(rows).toHaveCount(2);

  // The order is remembered.
  await page.reload();
  await expect(page.getByLabel("Sort by")).toHaveValue("name");
  expect((await page.request.post(`/api/projects/${id}/stop`)).status()).toBe(204);
  await expect(rows.first().getByTestId("project-run-state")).toHaveText("Stopped", { timeout: 15_000 });
});

test("at the default address, 127.0.0.1, the login page sends people to localhost for passkeys", async ({ page }) => {
  await page.goto("/login");
  const notice = page.getByTestId("passkey-notice");
  await expect(notice).toContainText("Passkeys work at");
  const port = new URL(page.url()).port;
  await expect(notice.getByRole("link")).toHaveAttribute("href", `http://localhost:${port}/login`);
  await expect(page.getByRole("button", { name: "Sign in with a passkey" })).toHaveCount(0);
  await notice.getByRole("link").click();
  await expect(page.getByRole("button", { name: "Sign in with a passkey" })).toBeVisible();
});
