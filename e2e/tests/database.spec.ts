import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { createProject, person, projectId, signUp, uniqueUser } from "./helpers";

// The project's PostgreSQL database through the Database pane, against the platform's own
// cluster: create it, run SQL, browse and edit a table, back up, restore and undo.

test.describe.configure({ timeout: 180_000 });

const toolTab = (page: Page, name: string) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name });
const section = (page: Page, name: string) =>
  page.getByTestId("database-pane").getByRole("tablist", { name: "Database" }).getByRole("tab", { name });

/** Replaces the console's text with sql and runs it with Ctrl+Enter. */
async function runSql(page: Page, sql: string) {
  await section(page, "Console").click();
  const editor = page.getByTestId("sql-editor").locator(".cm-content");
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  // Inserted whole, so that the editor's bracket closing and completion leave it as written.
  await page.keyboard.insertText(sql);
  await page.keyboard.press("Control+Enter");
}

/** The grid of the (last) result, once shown. */
function resultGrid(page: Page) {
  return page.getByTestId("sql-console").getByRole("grid").last();
}

test("a project database: create, query, errors, browse and edit, back up, restore and undo", async ({ page }) => {
  await signUp(page, uniqueUser("pg"));
  await createProject(page, "Data App");

  await toolTab(page, "Database").click();
  await expect(page.getByText("No database yet")).toBeVisible();
  await page.getByRole("button", { name: "Create database" }).click();
  const pane = page.getByTestId("database-pane");
  await expect(pane).toBeVisible({ timeout: 30_000 });
  await expect(pane.getByTestId("database-name")).not.toBeEmpty();
  await expect(pane.getByText("DATABASE_URL")).toBeVisible();

  // Three statements, three results; the last (the SELECT) shows, with typed headers.
  await runSql(
    page,
    "CREATE TABLE notes (id serial primary key, body text); INSERT INTO notes (body) VALUES ('hello'), ('world'); SELECT * FROM notes;",
  );
  const grid = resultGrid(page);
  await expect(grid).toHaveAttribute("aria-label", "Result 3");
  await expect(grid.getByRole("columnheader", { name: /^id\s*int4/ })).toBeVisible();
  await expect(grid.getByRole("columnheader", { name: /^body\s*text/ })).toBeVisible();
  await expect(grid.getByRole("gridcell", { name: "hello" })).toBeVisible();
  await expect(grid.getByRole("gridcell", { name: "world" })).toBeVisible();
  await expect(grid.getByRole("row")).toHaveCount(3);
  await expect(page.getByTestId("sql-console").getByTestId("row-count").last()).toHaveText("2 rows");
  const results = page.getByTestId("sql-console").getByRole("tablist", { name: "Results" });
  await expect(results.getByRole("tab", { name: /INSERT 0 2/ })).toBeVisible();

  // PostgreSQL's error, with its place marked in the editor.
  await runSql(page, "SELEC 1");
  const problem = page.getByTestId("sql-error");
  await expect(problem).toContainText('syntax error at or near "SELEC"');
  await expect(problem).toContainText("SQLSTATE 42601");
  await expect(page.getByTestId("sql-error-position")).toContainText("line 1, column 1");
  await expect(page.getByTestId("sql-editor").getByTestId("sql-error-mark")).toHaveText("S");

  // The table, its rows, and a cell edited in place.
  await section(page, "Tables").click();
  await pane.getByRole("list", { name: "Tables" }).getByRole("button", { name: /notes/ }).click();
  const rows = pane.getByRole("grid", { name: "Rows of notes" });
  await expect(rows.getByRole("row")).toHaveCount(3);
  await expect(pane.getByTestId("rows-range")).toHaveText("1–2 of 2");
  await rows.getByRole("gridcell", { name: "hello" }).dblclick();
  await rows.getByLabel("New value of body").fill("hi there");
  await rows.getByLabel("New value of body").press("Enter");
  await expect(rows.getByRole("gridcell", { name: "hi there" })).toBeVisible();
  // Ordered by a header, descending on the second click.
  await rows.getByRole("button", { name: /^id/ }).click();
  await rows.getByRole("button", { name: /^id/ }).click();
  await expect(rows.getByRole("columnheader", { name: /^id/ })).toHaveAttribute("aria-sort", "descending");
  await expect(rows.getByRole("row").nth(1)).toContainText("world");
  // What the database holds now.
  await runSql(page, "SELECT body FROM notes ORDER BY id;");
  await expect(resultGrid(page).getByRole("gridcell", { name: "hi there" })).toBeVisible();

  // A backup, a change, a restore that brings the old data back, and its undo.
  await section(page, "Backups").click();
  await pane.getByRole("button", { name: "Back up now" }).click();
  const backups = pane.getByRole("list", { name: "Backups" });
  const manual = backups.getByRole("listitem").filter({ hasText: "Manual" });
  await expect(manual).toHaveCount(1, { timeout: 30_000 });
  // Its dump downloads, and uploads back as a backup of its own.
  const [dump] = await Promise.all([page.waitForEvent("download"), manual.getByRole("link", { name: "Download" }).click()]);
  const dumpPath = await dump.path();
  expect((await readFile(dumpPath)).subarray(0, 5).toString()).toBe("PGDMP");
  await pane.getByLabel("Dump file").setInputFiles(dumpPath);
  await expect(backups.getByRole("listitem").filter({ hasText: "Uploaded" })).toHaveCount(1, { timeout: 30_000 });

  await runSql(page, "DELETE FROM notes;");
  await expect(page.getByTestId("query-command")).toContainText("DELETE 2");

  await section(page, "Backups").click();
  await manual.getByRole("button", { name: "Restore" }).click();
  const confirm = page.getByRole("alertdialog", { name: "Restore this backup?" });
  await expect(confirm).toContainText("backed up first");
  await confirm.getByRole("button", { name: "Restore" }).click();
  const banner = page.getByTestId("restored-banner");
  await expect(banner).toContainText("Restored.", { timeout: 30_000 });
  await expect(backups.getByRole("listitem").filter({ hasText: "Before a restore" })).toHaveCount(1);

  await runSql(page, "SELECT body FROM notes ORDER BY id;");
  await expect(resultGrid(page).getByRole("gridcell", { name: "hi there" })).toBeVisible();
  await expect(resultGrid(page).getByRole("gridcell", { name: "world" })).toBeVisible();

  await banner.getByRole("button", { name: "Undo" }).click();
  await expect(banner).toBeHidden({ timeout: 30_000 });
  await runSql(page, "SELECT body FROM notes ORDER BY id;");
  await expect(page.getByTestId("sql-console").getByTestId("row-count").last()).toHaveText("0 rows");

  // The history keeps what was run, newest first; one picked goes back in the editor.
  await page.getByRole("radiogroup", { name: "Console view" }).getByRole("radio", { name: "History" }).click();
  const history = page.getByRole("list", { name: "History" });
  await expect(history.getByRole("button").first()).toContainText("SELECT body FROM notes");
  await history.getByRole("button").filter({ hasText: "SELEC 1" }).click();
  await expect(page.getByTestId("sql-editor").locator(".cm-content")).toHaveText("SELEC 1");

  // Development's schema and rows into production, which then shows beside it.
  await runSql(page, "INSERT INTO notes (body) VALUES ('for prod');");
  await pane.getByRole("button", { name: "Copy to production" }).click();
  const copy = page.getByRole("alertdialog", { name: "Copy development into production?" });
  await copy.getByLabel("Copy the rows too, not only the schema").check();
  await copy.getByRole("button", { name: "Copy schema and data" }).click();
  await expect(page.getByRole("radiogroup", { name: "Environment" }).getByRole("radio", { name: "prod" })).toBeChecked({ timeout: 30_000 });
  await expect(pane.getByTestId("database-name")).toHaveText(/_prod$/);
  await runSql(page, "SELECT body FROM notes;");
  await expect(resultGrid(page).getByRole("gridcell", { name: "for prod" })).toBeVisible();
});

test("a viewer sees the database and reads it, read-only", async ({ page, browser }) => {
  const owner = uniqueUser("pgo");
  await signUp(page, owner);
  await createProject(page, "Shared Data");
  const id = await projectId(page, owner, "shared-data");
  expect((await page.request.post(`/api/projects/${id}/database`, { data: {} })).status()).toBe(201);
  const sql = "CREATE TABLE items (id int primary key, name text); INSERT INTO items VALUES (1, 'kept');";
  expect((await page.request.post(`/api/projects/${id}/database/dev/query`, { data: { sql } })).status()).toBe(200);

  const viewer = await person(browser, "pgv");
  const shared = await page.request.post(`/api/projects/${id}/members`, { data: { username: viewer.name, role: "viewer" } });
  expect(shared.ok()).toBeTruthy();
  await viewer.page.goto(`/@${owner}/shared-data`);
  await toolTab(viewer.page, "Database").click();
  const pane = viewer.page.getByTestId("database-pane");
  await expect(pane.getByTestId("database-name")).not.toBeEmpty();
  await expect(pane.getByRole("button", { name: "Show connection URL" })).toHaveCount(0);
  await expect(pane.getByText("read-only", { exact: true })).toBeVisible();

  await runSql(viewer.page, "SELECT name FROM items;");
  await expect(resultGrid(viewer.page).getByRole("gridcell", { name: "kept" })).toBeVisible();
  await runSql(viewer.page, "DELETE FROM items;");
  await expect(viewer.page.getByTestId("sql-error")).toContainText("read-only transaction");

  // Rows are shown but not edited; backups are listed without their actions.
  await section(viewer.page, "Tables").click();
  await pane.getByRole("list", { name: "Tables" }).getByRole("button", { name: /items/ }).click();
  const rows = pane.getByRole("grid", { name: "Rows of items" });
  await rows.getByRole("gridcell", { name: "kept" }).dblclick();
  await expect(rows.getByLabel("New value of name")).toHaveCount(0);
  await section(viewer.page, "Backups").click();
  await expect(pane.getByRole("button", { name: "Back up now" })).toHaveCount(0);
  await expect(pane.getByRole("button", { name: "Delete database" })).toHaveCount(0);
  await viewer.close();
});
