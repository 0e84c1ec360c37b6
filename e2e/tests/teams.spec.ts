import { expect, test, type Page } from "@playwright/test";
import { createProject, person, signUp, uniqueUser } from "./helpers";

// Teams through the UI: making one, its projects, people joining by link or by
// username, its secrets and audit log, and an IP allowlist that shuts the
// browser (which connects from 127.0.0.1) out. Each test makes its own team.

test.describe.configure({ timeout: 150_000 });

/** Makes a team from the dashboard's Teams section and waits for its page. */
async function createTeam(page: Page, name: string, displayName: string) {
  await page.goto("/");
  await page.getByRole("button", { name: "New team" }).click();
  const dialog = page.getByRole("dialog", { name: "New team" });
  await dialog.getByLabel("Team name").fill(name);
  await dialog.getByLabel("Display name (optional)").fill(displayName);
  await dialog.getByRole("button", { name: "Create team" }).click();
  await expect(page).toHaveURL(`/@${name}`);
  await expect(page.getByRole("heading", { level: 1, name: displayName })).toBeVisible();
}

/** Creates a blank project owned by team through the dashboard's New project dialog, and waits for its workspace. */
async function createTeamProject(page: Page, team: string, name: string) {
  await page.goto("/");
  await page.getByRole("button", { name: "New project" }).first().click();
  const dialog = page.getByRole("dialog", { name: "New project" });
  await dialog.getByLabel("Owner").selectOption(team);
  await dialog.getByLabel("Name", { exact: true }).fill(name);
  await dialog.getByRole("radio", { name: "Blank", exact: true }).click();
  await dialog.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByTestId("project-name")).toHaveText(name);
}

async function openTab(page: Page, team: string, tab: "Projects" | "Members" | "Secrets" | "Audit" | "Settings") {
  await page.goto(`/@${team}`);
  await page.getByRole("tab", { name: tab }).click();
  await expect(page.getByRole("tab", { name: tab })).toHaveAttribute("aria-selected", "true");
}

async function addMember(page: Page, team: string, username: string, role: "admin" | "member" | "viewer") {
  await openTab(page, team, "Members");
  await page.getByLabel("Add people by username").fill(username);
  await page.getByLabel("Role for the new member").selectOption(role);
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByTestId("team-member-row").filter({ hasText: username })).toBeVisible();
}

test("a team made on the dashboard owns a project; people join by link or by username and open it", async ({ page, browser }) => {
  const owner = uniqueUser("own");
  const team = uniqueUser("team");
  await signUp(page, owner);
  await createTeam(page, team, "Acme Labs");
  await expect(page.getByLabel("Your role: Owner")).toBeVisible();

  // The dashboard lists it; its name can't be taken twice.
  await page.goto("/");
  const card = page.getByRole("list", { name: "Your teams" }).getByTestId("team-row").filter({ hasText: `@${team}` });
  await expect(card.getByRole("link", { name: "Acme Labs" })).toBeVisible();
  await expect(card).toContainText("1 member");
  await expect(card.getByLabel(`Your role in ${team}: Owner`)).toBeVisible();
  await page.getByRole("button", { name: "New team" }).click();
  const again = page.getByRole("dialog", { name: "New team" });
  await again.getByLabel("Team name").fill(team);
  await again.getByRole("button", { name: "Create team" }).click();
  await expect(again.getByLabel("Team name")).toHaveAttribute("aria-invalid", "true");
  await expect(again.getByText(/taken/i)).toBeVisible();
  await expect(again.getByLabel("Team name")).toHaveValue(team);
  await page.keyboard.press("Escape");

  // A project in the team, through the New project dialog's owner picker.
  await createTeamProject(page, team, "Roadmap");
  await expect(page).toHaveURL(`/@${team}/roadmap`);
  // The team's owner manages it as its owner would (project role "admin"); the team is listed as its owner.
  await page.getByRole("banner").getByRole("button", { name: "Invite" }).click();
  const share = page.getByRole("dialog", { name: "Share Roadmap" });
  await expect(share.getByTestId("member-row").first()).toContainText(team);
  await expect(share.getByTestId("member-row").first()).toContainText("Owner");
  await expect(share.getByLabel("Add people by username")).toBeVisible();
  await page.keyboard.press("Escape");
  await openTab(page, team, "Projects");
  await expect(page.getByRole("list", { name: `Projects of ${team}` }).getByRole("link", { name: "Roadmap" })).toBeVisible();

  // An invite link for a member.
  await openTab(page, team, "Members");
  await page.getByLabel("Link role").selectOption("member");
  await page.getByLabel("Link expires after").selectOption({ label: "Expires after 1 day" });
  await page.getByRole("button", { name: "Create link" }).click();
  const link = await page.getByTestId("team-invite-url").inputValue();
  expect(link).toMatch(/\/team-invite\/\S+$/);
  await expect(page.getByRole("list", { name: "Open invite links" }).getByRole("listitem")).toHaveCount(1);

  const guest = await person(browser, "gst");
  await guest.page.goto("/team-invite/no-such-token");
  await expect(guest.page.getByRole("heading", { name: "This invite link doesn't work" })).toBeVisible();
  await guest.page.goto(new URL(link).pathname);
  await expect(guest.page.getByRole("heading", { name: `${owner} invites you to join Acme Labs` })).toBeVisible();
  await expect(guest.page.getByText("You'd join as member")).toBeVisible();
  await guest.page.getByRole("button", { name: "Join team" }).click();
  await expect(guest.page).toHaveURL(`/@${team}`);
  await expect(guest.page.getByLabel("Your role: Member")).toBeVisible();
  // Members see projects and people; secrets, audit and settings are for admins.
  await expect(guest.page.getByRole("tab", { name: "Members" })).toBeVisible();
  await expect(guest.page.getByRole("tab", { name: "Secrets" })).toHaveCount(0);
  await expect(guest.page.getByRole("tab", { name: "Settings" })).toHaveCount(0);

  // The team's project is on their dashboard under the team, not as shared, and they can edit it.
  await guest.page.goto("/");
  await expect(guest.page.getByRole("heading", { name: "Team projects" })).toBeVisible();
  await expect(guest.page.getByRole("list", { name: "Shared with you" })).toHaveCount(0);
  await guest.page.getByRole("list", { name: `Projects of ${team}` }).getByRole("link", { name: "Roadmap" }).click();
  await expect(guest.page).toHaveURL(`/@${team}/roadmap`);
  await expect(guest.page.getByTestId("project-name")).toHaveText("Roadmap");
  await expect(guest.page.getByRole("button", { name: "New file" })).toBeVisible();

  // The owner sees them among the members; the link is still open until revoked.
  await openTab(page, team, "Members");
  await expect(page.getByLabel(`Role for ${guest.name}`)).toHaveValue("member");

  // A viewer added by username opens the project but can't change it.
  const viewer = await person(browser, "vwr");
  await addMember(page, team, viewer.name, "viewer");
  await viewer.page.goto(`/@${team}/roadmap`);
  await expect(viewer.page.getByTestId("project-name")).toHaveText("Roadmap");
  await expect(viewer.page.getByText(/View only|Read only/).first()).toBeVisible();
  await expect(viewer.page.getByRole("button", { name: "New file" })).toHaveCount(0);

  await guest.close();
  await viewer.close();
});

test("team secrets are set and revealed, and the audit log lists, filters and exports what happened", async ({ page, browser }) => {
  const owner = uniqueUser("own");
  const team = uniqueUser("team");
  await signUp(page, owner);
  await createTeam(page, team, "Secret Society");

  const member = await person(browser, "mem");
  await addMember(page, team, member.name, "member");
  await member.close();

  await openTab(page, team, "Secrets");
  await page.getByLabel("Name", { exact: true }).fill("DEPLOY_TOKEN");
  await page.getByLabel("Value", { exact: true }).fill("s3cr3t-value");
  await page.getByRole("button", { name: "Save secret" }).click();
  const secrets = page.getByRole("list", { name: "Secrets" });
  await expect(secrets.getByText("DEPLOY_TOKEN")).toBeVisible();
  await secrets.getByRole("button", { name: "Show DEPLOY_TOKEN" }).click();
  await expect(page.getByTestId("secret-value")).toHaveText("s3cr3t-value");

  // Everything above is in the log.
  await openTab(page, team, "Audit");
  const entries = page.getByTestId("audit-entry");
  await expect(entries.filter({ hasText: "team.member.add" })).not.toHaveCount(0);
  await expect(entries.filter({ hasText: "secret.set" })).not.toHaveCount(0);
  await expect(entries.filter({ hasText: "secret.reveal" })).not.toHaveCount(0);
  const all = await entries.count();

  // Filtering by action narrows the list to that action.
  await page.getByLabel("Action", { exact: true }).fill("secret");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await expect(entries.filter({ hasText: "team.member.add" })).toHaveCount(0);
  await expect(entries.filter({ hasText: "secret.set" })).not.toHaveCount(0);
  const narrowed = await entries.count();
  expect(narrowed).toBeLessThan(all);
  for (const action of await entries.locator("td:nth-child(3) code").allTextContents()) expect(action).toMatch(/^secret/);

  // The exports carry the same filters.
  const csv = page.getByRole("link", { name: "Export CSV" });
  const href = await csv.getAttribute("href");
  expect(href).toContain("action=secret");
  expect(href).toContain("format=csv");
  const res = await page.request.get(href ?? "");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toContain("csv");
  const body = await res.text();
  expect(body).toContain("secret.set");
  expect(body).not.toContain("member.add");
  const jsonl = await page.getByRole("link", { name: "Export JSON lines" }).getAttribute("href");
  expect(jsonl).toContain("action=secret");
  expect(jsonl).toContain("format=jsonl");
});

test("an allowlist that leaves out the person's own address warns first, then shuts them out of the team and its projects", async ({ page }) => {
  const owner = uniqueUser("own");
  const team = uniqueUser("team");
  await signUp(page, owner);
  await createTeam(page, team, "Locked Room");
  const created = await page.request.post("/api/projects", { data: { name: "Vault", owner: team } });
  expect(created.status()).toBe(201);

  await openTab(page, team, "Settings");
  await expect(page.getByTestId("your-ip")).toHaveText("Your address: 127.0.0.1");
  const list = page.getByLabel("Allowed addresses");

  // A bad entry is named.
  await list.fill("10.0.0.0/8\nnot-an-address");
  await page.getByRole("button", { name: "Save allowlist" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "not-an-address" })).toBeVisible();

  // A list without 127.0.0.1 asks first.
  await list.fill("10.0.0.0/8");
  await page.getByRole("button", { name: "Save allowlist" }).click();
  const warning = page.getByRole("alert").filter({ hasText: "127.0.0.1" });
  await expect(warning).toBeVisible();
  const anyway = warning.getByRole("button", { name: "Save anyway" });
  await expect(anyway).toBeDisabled();
  await warning.getByLabel("I understand I will lose access from this address").check();
  await anyway.click();

  // Saved: the team page itself now says the address isn't allowed...
  await expect(page.getByRole("heading", { name: "Your network address isn't allowed" })).toBeVisible();

  // ...and so does its project, with the address and the team, and a way back.
  const res = await page.goto(`/@${team}/vault`);
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "Your network address isn't allowed" })).toBeVisible();
  const message = page.getByRole("alert");
  await expect(message).toContainText("127.0.0.1");
  await expect(message).toContainText(team);
  await expect(page.getByRole("link", { name: "Go to your projects" })).toHaveAttribute("href", "/");
});

test("a person moves a project of their own into their team from the workspace menu, and back", async ({ page }) => {
  const owner = uniqueUser("own");
  const team = uniqueUser("team");
  await signUp(page, owner);
  await createTeam(page, team, "Movers");
  await createProject(page, "Notebook");
  await expect(page).toHaveURL(`/@${owner}/notebook`);

  await page.getByRole("button", { name: `Project ${owner}/Notebook menu` }).click();
  await page.getByRole("menuitem", { name: "Transfer…" }).click();
  const dialog = page.getByRole("dialog", { name: "Transfer Notebook" });
  await dialog.getByLabel("New owner").selectOption(team);
  await dialog.getByRole("button", { name: "Transfer" }).click();
  await expect(page).toHaveURL(`/@${team}/notebook`);
  await expect(page.getByTestId("file-tree")).toBeVisible();
  await openTab(page, team, "Projects");
  await expect(page.getByRole("link", { name: "Notebook" })).toBeVisible();

  await page.goto(`/@${team}/notebook`);
  await page.getByRole("button", { name: `Project ${team}/Notebook menu` }).click();
  await page.getByRole("menuitem", { name: "Transfer…" }).click();
  await page.getByRole("dialog", { name: "Transfer Notebook" }).getByRole("button", { name: "Transfer" }).click();
  await expect(page).toHaveURL(`/@${owner}/notebook`);
});
