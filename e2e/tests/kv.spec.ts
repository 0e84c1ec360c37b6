import { expect, test, type Page } from "@playwright/test";
import { createProject, projectId, signUp, uniqueUser } from "./helpers";

// The project's key-value store through the Key-value pane, beside a sandbox command that uses
// REPLIT_DB_URL as Replit's clients do: what one side writes, the other reads.

test.describe.configure({ timeout: 180_000 });

const toolTab = (page: Page, name: string) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name });

/** Runs command in the project's sandbox; answers its stdout. */
async function exec(page: Page, id: string, command: string): Promise<string> {
  const res = await page.request.post(`/api/projects/${id}/exec`, { data: { command, timeoutSec: 60 } });
  expect(res.ok()).toBeTruthy();
  const out = (await res.json()) as { exitCode: number; stdout: string; stderr: string };
  expect(out.exitCode, out.stderr).toBe(0);
  return out.stdout;
}

test("key-value: keys set by a sandbox command, searched, edited as JSON, added, deleted and undone", async ({ page }) => {
  const user = uniqueUser("kv");
  await signUp(page, user);
  await createProject(page, "Kv App");
  const id = await projectId(page, user, "kv-app");

  // Set as @replit/database does: form-encoded pairs, values as JSON text.
  await exec(
    page,
    id,
    `curl -sf --data-urlencode 'user:1={"name":"Ada","langs":["go","ts"]}' "$REPLIT_DB_URL" && ` +
      `curl -sf --data-urlencode 'user:2={"name":"Bob"}' "$REPLIT_DB_URL" && curl -sf -d "note=plain text" "$REPLIT_DB_URL"`,
  );

  await toolTab(page, "Key-value").click();
  const pane = page.getByTestId("kv-pane");
  const keys = pane.getByRole("list", { name: "Keys" });
  await expect(keys.getByRole("button")).toHaveCount(3);
  await expect(pane.getByTestId("kv-usage")).toContainText("3 of 5,000 keys");

  // Search by prefix.
  await pane.getByRole("searchbox", { name: "Search keys by prefix" }).fill("user:");
  await expect(keys.getByRole("button")).toHaveCount(2);
  await expect(keys.getByRole("button", { name: /^note/ })).toHaveCount(0);

  // A JSON value shows pretty-printed; an edit is checked, then stored compact as clients write it.
  await keys.getByRole("button", { name: /^user:1/ }).click();
  const value = pane.getByRole("textbox", { name: "Value" });
  await expect(value).toHaveValue('{\n  "name": "Ada",\n  "langs": [\n    "go",\n    "ts"\n  ]\n}');
  await value.fill('{"name": "Ada", "langs": ["go"');
  await pane.getByRole("button", { name: "Save" }).click();
  await expect(pane.getByRole("alert")).toContainText("Not valid JSON");
  await value.fill('{"name": "Ada Lovelace", "langs": ["go"]}');
  await pane.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved user:1")).toBeVisible();
  expect(await exec(page, id, `curl -sf "$REPLIT_DB_URL/user:1"`)).toBe('{"name":"Ada Lovelace","langs":["go"]}');

  // Plain text is shown as it is, and stays text.
  await pane.getByRole("searchbox", { name: "Search keys by prefix" }).fill("");
  await keys.getByRole("button", { name: /^note/ }).click();
  await expect(value).toHaveValue("plain text");
  await expect(pane.getByRole("radio", { name: "Text" })).toBeChecked();

  // Added in the pane, read by the sandbox.
  await pane.getByRole("button", { name: "Add key" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a key" });
  await dialog.getByLabel("Key").fill("settings");
  await dialog.getByLabel("Value", { exact: true }).fill('{"theme": "dark"}');
  await dialog.getByRole("button", { name: "Set key" }).click();
  await expect(dialog).toBeHidden();
  await expect(keys.getByRole("button")).toHaveCount(4);
  await expect(pane.getByTestId("kv-selected-key")).toHaveText("settings");
  expect(await exec(page, id, `curl -sf "$REPLIT_DB_URL/settings"`)).toBe('{"theme":"dark"}');

  // Deleted, undone, deleted again.
  await keys.getByRole("button", { name: /^user:2/ }).click();
  await pane.getByRole("button", { name: "Delete" }).click();
  await expect(keys.getByRole("button")).toHaveCount(3);
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(keys.getByRole("button")).toHaveCount(4);
  expect(await exec(page, id, `curl -sf "$REPLIT_DB_URL/user:2"`)).toBe('{"name":"Bob"}');
  await keys.getByRole("button", { name: /^user:2/ }).click();
  await pane.getByRole("button", { name: "Delete" }).click();
  await expect(keys.getByRole("button")).toHaveCount(3);
  expect(await exec(page, id, `curl -s -o /dev/null -w '%{http_code}' "$REPLIT_DB_URL/user:2"`)).toBe("404");

  // Production's store is another one.
  await pane.getByRole("radio", { name: "prod" }).click();
  await expect(pane.getByText("No keys yet")).toBeVisible();
  await expect(pane.getByTestId("kv-usage")).toContainText("0 of 5,000 keys");
});
