import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { expect, test, type Page } from "@playwright/test";
import { createProject, projectId, signUp, uniqueUser } from "./helpers";

// The project's object storage through the Storage pane: buckets, a small upload in one request,
// a big one in resumable chunks that survives a dropped chunk, folders, downloads and deletes.

test.describe.configure({ timeout: 180_000 });

const toolTab = (page: Page, name: string) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name });

const MiB = 1 << 20;

test("storage: buckets, uploads small and resumable, folders, download and delete", async ({ page }) => {
  const user = uniqueUser("obj");
  await signUp(page, user);
  await createProject(page, "Files App");
  const id = await projectId(page, user, "files-app");

  await toolTab(page, "Storage").click();
  const pane = page.getByTestId("storage-pane");
  await expect(pane.getByRole("combobox", { name: "Bucket" })).toHaveValue("default");
  await expect(pane.getByText("No files yet")).toBeVisible();

  // A bucket of its own.
  await pane.getByRole("button", { name: "New bucket" }).click();
  const create = page.getByRole("dialog", { name: "New bucket" });
  await create.getByLabel("Name").fill("Bad_Name");
  await create.getByRole("button", { name: "Create bucket" }).click();
  await expect(create.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await create.getByLabel("Name").fill("photos");
  await create.getByRole("button", { name: "Create bucket" }).click();
  await expect(create).toBeHidden();
  await expect(pane.getByRole("combobox", { name: "Bucket" })).toHaveValue("photos");

  // A small file through the file input: one PUT.
  const hello = "hello, object storage\n";
  await pane.getByLabel("Files to upload").setInputFiles({ name: "hello.txt", mimeType: "text/plain", buffer: Buffer.from(hello) });
  const files = pane.getByRole("table", { name: "Files" });
  await expect(files.getByText("hello.txt", { exact: true })).toBeVisible();
  await expect(files.getByText(/text\/plain/)).toBeVisible();

  // Downloaded, it is what was uploaded.
  const [download] = await Promise.all([page.waitForEvent("download"), files.getByRole("link", { name: "Download hello.txt" }).click()]);
  expect(download.suggestedFilename()).toBe("hello.txt");
  expect(await readFile(await download.path(), "utf8")).toBe(hello);

  // A folder, and a file over 8 MiB in it: resumable chunks, with a progress bar, that carry on
  // from what the server holds when a chunk is cut off.
  await pane.getByRole("button", { name: "New folder" }).click();
  const folder = page.getByRole("dialog", { name: "New folder" });
  await folder.getByLabel("Folder name").fill("docs");
  await folder.getByRole("button", { name: "Open folder" }).click();
  await expect(pane.getByRole("navigation", { name: "Folder" })).toContainText("docs");
  await expect(pane.getByText("This folder is empty")).toBeVisible();

  const big = Buffer.alloc(9 * MiB + 123);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  const chunks: string[] = [];
  let cut = false;
  const chunkUrl = (url: URL) => url.pathname.includes("/uploads/") && url.searchParams.has("offset");
  await page.route(chunkUrl, async (route) => {
    const offset = new URL(route.request().url()).searchParams.get("offset") ?? "";
    chunks.push(offset);
    if (offset === String(8 * MiB) && !cut) {
      cut = true;
      await route.abort("connectionreset");
      return;
    }
    await route.continue();
  });
  // Slow enough to watch: about 2 MB/s up.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * MiB });
  await pane.getByLabel("Files to upload").setInputFiles({ name: "big.bin", mimeType: "application/octet-stream", buffer: big });
  await expect(pane.getByRole("progressbar", { name: "Uploading big.bin" })).toBeVisible();
  await expect(files.getByText("big.bin", { exact: true })).toBeVisible({ timeout: 60_000 });
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.unroute(chunkUrl);
  expect(chunks).toEqual(["0", String(8 * MiB), String(8 * MiB)]);
  await expect(pane.getByRole("list", { name: "Uploads" }).locator('[data-status="done"]')).toHaveCount(2);

  const got = await page.request.get(`/api/projects/${id}/storage/dev/buckets/photos/object?key=docs%2Fbig.bin`);
  expect(got.status()).toBe(200);
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  expect(sha(await got.body())).toBe(sha(big));
  await expect(pane.getByTestId("storage-usage")).toContainText("2 files");

  // Back up through the breadcrumbs: the folder is listed, and opens.
  await pane.getByRole("navigation", { name: "Folder" }).getByRole("button", { name: "photos" }).click();
  await files.getByRole("button", { name: "docs/", exact: true }).click();
  await expect(files.getByText("big.bin", { exact: true })).toBeVisible();
  await pane.getByRole("navigation", { name: "Folder" }).getByRole("button", { name: "photos" }).click();

  // Deleted: a file, then the folder with what is in it, then the bucket.
  await files.getByRole("button", { name: "Delete hello.txt" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
  await expect(files.getByText("hello.txt", { exact: true })).toBeHidden();
  await files.getByRole("button", { name: "Delete folder docs/" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
  await expect(pane.getByText("No files yet")).toBeVisible();
  await expect(pane.getByTestId("storage-usage")).toContainText("0 files");
  await pane.getByRole("button", { name: "Delete bucket photos" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Delete bucket" }).click();
  await expect(pane.getByRole("combobox", { name: "Bucket" })).toHaveValue("default");
});
