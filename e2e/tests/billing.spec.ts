import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createProject, editorContent, newFile, person, uniqueUser, signUp } from "./helpers";

// Credits end to end: code runs in a sandbox, the meters measure it, the rating job charges it
// (ECODE_METER_INTERVAL and ECODE_RATING_INTERVAL are 1s here), an administrator grants credits
// from Settings, and the person finds both on the usage page and in the month's CSV statement.

const header = (page: Page) => page.getByRole("banner");
const runStatus = (page: Page) => header(page).getByTestId("run-status");

// Busy for three seconds, so the sandbox's cgroup counts CPU time worth charging.
const BURN_JS = `const end = Date.now() + 3000;
let n = 0;
while (Date.now() < end) n++;
console.log("burned " + (n > 0 ? "cpu" : "nothing"));
`;

test("a run's compute and an administrator's grant show on the usage page and in the CSV statement", async ({ page, browser }) => {
  test.setTimeout(180_000);
  const user = uniqueUser("payer");
  await signUp(page, user);
  await createProject(page, "Metered");
  await newFile(page, "index.js");
  await editorContent(page).click();
  await page.keyboard.insertText(BURN_JS);
  await page.keyboard.press("ControlOrMeta+s");
  await expect(page.getByTestId("save-status")).toHaveText("Saved");

  await header(page).getByRole("button", { name: "Run", exact: true }).click();
  await expect(runStatus(page)).toHaveText("Exited", { timeout: 60_000 });

  // An administrator (named by the operator with the binary) grants credits from Settings.
  const admin = await person(browser, "billadm");
  execFileSync("../bin/ecode", ["admin", "grant-admin", "-username", admin.name], {
    env: { ...process.env, ECODE_DATA_DIR: process.env.ECODE_E2E_DATA_DIR ?? "" },
  });
  await admin.page.goto("/settings");
  const grant = admin.page.getByRole("region", { name: "Grant credits" });
  await expect(grant).toBeVisible();
  await grant.getByLabel("Username").fill(user);
  await grant.getByLabel("Credits", { exact: true }).fill("750");
  await grant.getByLabel("Reason").fill("Pilot programme");
  await grant.getByRole("button", { name: "Grant credits" }).click();
  await expect(grant.getByRole("status").filter({ hasText: "Granted" })).toHaveText(`Granted 750.00 credits to @${user}.`);
  // The ledger's own check holds after the grant.
  await grant.getByRole("button", { name: "Check the ledger" }).click();
  await expect(grant.getByTestId("reconcile")).toContainText(/Ledger balanced: \d+ accounts, \d+ transfers/);
  await admin.close();

  // The person opens the usage page from their menu.
  await page.goto("/");
  await page.getByRole("button", { name: `Account menu for ${user}` }).click();
  await page.getByRole("menuitem", { name: "Usage & billing" }).click();
  await expect(page).toHaveURL(/\/usage$/);
  await expect(page.getByRole("heading", { name: "Usage & billing", level: 1 })).toBeVisible();

  // The grant is among the transactions, with its reason.
  const transactions = page.getByRole("list", { name: "Transactions" });
  await expect(transactions.getByRole("listitem").filter({ hasText: "Pilot programme" })).toContainText("+750.00");
  await expect(transactions.getByRole("listitem").filter({ hasText: "Pilot programme" })).toContainText("Grant");

  // The run's CPU time, once metered and rated, is charged to the project (the page reloads
  // to catch up: it refreshes by itself only each minute).
  const projects = page.getByTestId("usage-projects");
  await expect(async () => {
    await page.reload();
    await expect(projects.getByRole("row").filter({ hasText: "Metered" })).toContainText("Sandbox CPU", { timeout: 2_000 });
  }).toPass({ timeout: 60_000 });
  await expect(page.getByTestId("usage-meters").getByRole("row").filter({ hasText: "Sandbox CPU" })).toContainText("CPU-seconds");
  await expect(page.getByTestId("usage-people")).toContainText(user);
  await expect(page.getByRole("img", { name: /Credits per day by category/ })).toBeVisible();

  // The month's statement: its header, and the project's compute on a line of its own.
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "Download CSV" }).click();
  const file = await (await download).path();
  const lines = (await readFile(file, "utf8")).trim().split(/\r?\n/);
  expect(lines[0]).toBe("date,category,meter,detail,project,person,quantity,unit,credits");
  // date, category, meter, detail (none for CPU), project ("owner/slug"), person, ...
  const cpu = lines.find((l) => /^\d{4}-\d{2}-\d{2},compute,sandbox\.cpu,,[^,]+\/metered,/.test(l));
  expect(cpu, lines.join("\n")).toBeDefined();
  expect(cpu?.split(",")[5]).toBe(user);
  expect(Number(cpu?.split(",")[8])).toBeGreaterThan(0);
  expect(lines[lines.length - 1]).toMatch(/^total,,,,,,,,\d+(\.\d+)?$/);
});

test("a team's admin reaches the team's usage from its page", async ({ page }) => {
  const user = uniqueUser("teampay");
  await signUp(page, user);
  const team = uniqueUser("crew");
  const res = await page.request.post("/api/teams", { data: { name: team } });
  expect(res.ok()).toBeTruthy();

  await page.goto(`/@${team}`);
  await page.getByRole("link", { name: "Usage" }).click();
  await expect(page).toHaveURL(new RegExp(`/usage\\?team=${team}$`));
  await expect(page.getByText(`The team @${team} pays for its projects.`)).toBeVisible();
  await expect(page.getByTestId("billing-plan")).toContainText("Team");
  await expect(page.getByRole("heading", { name: "Per member" }).or(page.getByText("No usage yet this period"))).toBeVisible();
});
