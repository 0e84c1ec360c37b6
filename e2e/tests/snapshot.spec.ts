import { expect, test, type Page } from "@playwright/test";
import { createProject, projectId, signUp, uniqueUser } from "./helpers";

// Checkpoints with data: the History tab keeps the database, the key-value entries and
// the objects with a checkpoint; a program in the sandbox changes them; restoring the
// checkpoint brings them back, and the toast's Undo brings back the changes.

const historyTab = (page: Page) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name: "History" });

/** Runs command in the project's sandbox and wants it to succeed. */
async function exec(page: Page, id: string, command: string): Promise<string> {
  const res = await page.request.post(`/api/projects/${id}/exec`, { data: { command, timeoutSec: 60 } });
  expect(res.status()).toBe(200);
  const out = (await res.json()) as { exitCode: number; stdout: string; stderr: string };
  expect(out.exitCode, out.stderr).toBe(0);
  return out.stdout.trim();
}

/** What the project's data holds now: a table's rows, a key and an object, read from the sandbox and the API. */
async function data(page: Page, id: string): Promise<string> {
  const rows = await exec(page, id, `psql -Atc "SELECT string_agg(name, ',' ORDER BY name) FROM items"`);
  const key = await exec(page, id, `curl -s "$REPLIT_DB_URL/color"`);
  const object = await page.request.get(`/api/projects/${id}/storage/dev/buckets/default/object?key=photo.txt`);
  expect(object.status()).toBe(200);
  return `${rows} | ${key} | ${await object.text()}`;
}

/** Changes all three from the sandbox (the database, the key) and the API (the object). */
async function change(page: Page, id: string, row: string, color: string, photo: string) {
  await exec(page, id, `psql -c "INSERT INTO items VALUES ('${row}')" && curl -sf -d color=${color} "$REPLIT_DB_URL"`);
  const put = await page.request.put(`/api/projects/${id}/storage/dev/buckets/default/object?key=photo.txt`, {
    data: photo,
  });
  expect(put.status()).toBe(200);
}

test("a checkpoint with data brings back the database, keys and objects, and the restore is undone", async ({
  page,
}) => {
  test.setTimeout(180_000);
  const owner = uniqueUser("snap");
  await signUp(page, owner);
  await createProject(page, "Ledger");
  const id = await projectId(page, owner, "ledger");
  expect((await page.request.post(`/api/projects/${id}/database`, { data: {} })).status()).toBe(201);
  await exec(page, id, `psql -c "CREATE TABLE items (name text PRIMARY KEY)"`);
  await change(page, id, "kept", "blue", "old photo");
  expect(await data(page, id)).toBe("kept | blue | old photo");

  await historyTab(page).click();
  const pane = page.getByTestId("history-pane");
  await pane.getByLabel("Checkpoint message").fill("with data");
  await pane.getByLabel(/Checkpoint with data/).check();
  await pane.getByRole("button", { name: "Checkpoint" }).click();
  await expect(page.locator("[data-sonner-toast]").filter({ hasText: "saved with data" })).toContainText(
    "the database, 1 key and 1 object",
  );
  const saved = page.getByRole("list", { name: "Checkpoints" }).getByRole("listitem", { name: "with data" });
  await expect(saved.getByText("code + data")).toBeVisible();

  await change(page, id, "later", "red", "new photo");
  expect(await data(page, id)).toBe("kept,later | red | new photo");

  await saved.getByRole("button", { name: /Restore/ }).click();
  const confirm = page.getByRole("alertdialog");
  await expect(confirm).toContainText("Bring back its data too: the database, 1 key and 1 object");
  await confirm.getByRole("button", { name: "Restore code + data" }).click();
  await expect(confirm).toBeHidden();
  const toast = page.locator("[data-sonner-toast]").filter({ hasText: /with its data/ });
  await expect(toast).toContainText("the database, 1 key and 1 object");
  expect(await data(page, id)).toBe("kept | blue | old photo");

  await toast.getByRole("button", { name: "Undo" }).click();
  // While the undo runs, the database is between its drop and its restore: a read may fail until it is done.
  await expect
    .poll(() => data(page, id).catch((err: unknown) => String(err)), { timeout: 30_000 })
    .toBe("kept,later | red | new photo");
});

test("a deploy keeps production's data, which the Deploy tab restores alone and undoes", async ({ page }) => {
  test.setTimeout(180_000);
  const owner = uniqueUser("proddata");
  await signUp(page, owner);
  await createProject(page, "Counter");
  const id = await projectId(page, owner, "counter");
  const files = `/api/projects/${id}/files`;
  expect((await page.request.put(`${files}/ecode.toml`, { data: '[deployment]\npublicDir = "web"\n' })).status()).toBe(204);
  expect((await page.request.put(`${files}/web/index.html`, { data: "<h1>count</h1>" })).status()).toBe(204);
  const visits = `/api/projects/${id}/kv/prod/value?key=visits`;
  const setVisits = async (value: string) =>
    expect((await page.request.put(visits, { data: { value } })).status()).toBe(200);
  const getVisits = async () => ((await (await page.request.get(visits)).json()) as { value: string }).value;
  await setVisits("41");

  await page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name: "Deploy" }).click();
  const pane = page.getByTestId("deploy-pane");
  await pane.getByRole("button", { name: "Deploy", exact: true }).click();
  await expect(pane.getByRole("region", { name: "Build of release #1" }).getByTestId("release-status")).toHaveText("Ready", {
    timeout: 60_000,
  });
  await setVisits("99");

  const kept = page.getByTestId("production-data");
  await expect(kept.getByRole("listitem")).toHaveCount(1);
  await expect(kept).toContainText("1 key");
  await kept.getByRole("button", { name: "Restore" }).click();
  const confirm = page.getByRole("alertdialog");
  await expect(confirm).toContainText("Production's 1 key");
  await confirm.getByRole("button", { name: "Restore" }).click();
  const toast = page.locator("[data-sonner-toast]").filter({ hasText: "Production's data restored" });
  await expect(toast).toBeVisible();
  expect(await getVisits()).toBe("41");

  await toast.getByRole("button", { name: "Undo" }).click();
  await expect(page.locator("[data-sonner-toast]").filter({ hasText: "Restore undone" })).toBeVisible();
  expect(await getVisits()).toBe("99");
});
