import { expect, test, type Page } from "@playwright/test";
import { createProject, editorContent, newFile, person, projectId, signUp, treeItem, uniqueUser } from "./helpers";

// Several people in one project at once, each in their own browser context:
// invitations, live editing of one file, cursors, viewers, the tree, and
// catching up after a dropped connection.

test.describe.configure({ timeout: 150_000 });

/** The editor's document as text (its lines joined), without an inline completion's ghost text. */
async function docText(page: Page): Promise<string> {
  return editorContent(page).evaluate((content) =>
    [...content.querySelectorAll(".cm-line")]
      .map((line) => {
        const copy = line.cloneNode(true) as Element;
        for (const ghost of copy.querySelectorAll(".cm-inline-suggestion")) ghost.remove();
        return copy.textContent ?? "";
      })
      .join("\n"),
  );
}

/** A new owner with a new project holding one file with text in it, saved; returns the owner's name and the project's URL. */
async function ownProject(page: Page, opts: { user: string; project: string; slug: string; file: string; text: string }) {
  const owner = uniqueUser(opts.user);
  await signUp(page, owner);
  await createProject(page, opts.project);
  await newFile(page, opts.file);
  await editorContent(page).click();
  await page.keyboard.type(opts.text);
  await expect(page.getByTestId("save-status")).toHaveText("Saved");
  return { owner, url: `/@${owner}/${opts.slug}` };
}

async function addMember(page: Page, project: string, username: string, role: "editor" | "viewer") {
  await page.getByRole("banner").getByRole("button", { name: "Invite" }).click();
  const dialog = page.getByRole("dialog", { name: `Share ${project}` });
  await dialog.getByLabel("Add people by username").fill(username);
  await dialog.getByLabel("Role for the new member").selectOption(role);
  await dialog.getByRole("button", { name: "Invite", exact: true }).click();
  await expect(dialog.getByTestId("member-row").filter({ hasText: username })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
}

async function openFile(page: Page, url: string, file: string) {
  await page.goto(url);
  await treeItem(page, file).click();
  await expect(page.getByRole("tab", { name: file })).toHaveAttribute("aria-selected", "true");
}

test("two people type in one file at once, a viewer watches live, and everyone sees who is where", async ({ page, browser }) => {
  const { owner, url } = await ownProject(page, { user: "own", project: "Pair Work", slug: "pair-work", file: "shared.txt", text: "hello\nworld" });

  const editor = await person(browser, "edi");
  const viewer = await person(browser, "vie");
  await addMember(page, "Pair Work", editor.name, "editor");
  await addMember(page, "Pair Work", viewer.name, "viewer");

  // The editor finds it shared on the dashboard, and opens the same file.
  await editor.page.goto("/");
  await expect(editor.page.getByRole("list", { name: "Shared with you" }).getByRole("link", { name: "Pair Work" })).toBeVisible();
  await openFile(editor.page, url, "shared.txt");
  await expect(editorContent(editor.page)).toContainText("hello");

  // Both type at the same time, at either end of the file.
  await editorContent(page).click();
  await page.keyboard.press("ControlOrMeta+End");
  await editorContent(editor.page).click();
  await editor.page.keyboard.press("ControlOrMeta+Home");
  await Promise.all([page.keyboard.type("\nfrom owner 😀\nbye"), editor.page.keyboard.type("top 🚀 line\n")]);

  const expected = "top 🚀 line\nhello\nworld\nfrom owner 😀\nbye";
  await expect.poll(() => docText(page)).toBe(expected);
  await expect.poll(() => docText(editor.page)).toBe(expected);
  await expect(page.getByTestId("save-status")).toHaveText("Saved");
  await expect(editor.page.getByTestId("save-status")).toHaveText("Saved");

  // The server wrote what both see to the file.
  const id = await projectId(page, owner, "pair-work");
  await expect.poll(async () => (await page.request.get(`/api/projects/${id}/files/shared.txt`)).text()).toBe(expected);

  // Each sees the other's cursor with their name, and their avatar in the header.
  await expect(page.getByTestId("editor").locator(".cm-remote-label", { hasText: editor.name })).toBeVisible();
  await expect(editor.page.getByTestId("editor").locator(".cm-remote-label", { hasText: owner })).toBeVisible();
  await expect(page.getByRole("button", { name: `Follow ${editor.name}` })).toBeVisible();

  // The viewer sees edits as they happen, and can't make any.
  await openFile(viewer.page, url, "shared.txt");
  await expect(viewer.page.getByText("View only").first()).toBeVisible();
  await expect(editorContent(viewer.page)).toHaveAttribute("aria-readonly", "true");
  await expect.poll(() => docText(viewer.page)).toBe(expected);
  await page.keyboard.type("!");
  await expect.poll(() => docText(viewer.page)).toBe(`${expected}!`);
  await editorContent(viewer.page).click();
  await viewer.page.keyboard.type("nope");
  await expect.poll(() => docText(viewer.page)).toBe(`${expected}!`);
  await expect.poll(() => docText(page)).toBe(`${expected}!`);
  await viewer.page.getByRole("tab", { name: "Shell" }).click();
  await expect(viewer.page.getByRole("heading", { name: "Shell is for editors" })).toBeVisible();

  // Following: the owner follows the editor into another file, until the owner moves.
  await page.getByRole("button", { name: `Follow ${editor.name}` }).click();
  await expect(page.getByTestId("follow-bar")).toContainText(`Following ${editor.name}`);
  await editor.page.getByRole("button", { name: "New file" }).click();
  const dialog = editor.page.getByRole("dialog", { name: "New file" });
  await dialog.getByLabel("File name").fill("next.txt");
  await dialog.getByRole("button", { name: "Create" }).click();
  await expect(editorContent(editor.page)).toBeFocused();
  await editor.page.keyboard.type("over here");
  await expect(page.getByRole("tab", { name: "next.txt" })).toHaveAttribute("aria-selected", "true");
  await expect.poll(() => docText(page)).toBe("over here");
  await editorContent(page).click();
  await expect(page.getByTestId("follow-bar")).toHaveCount(0);

  await editor.close();
  await viewer.close();
});

test("three people typing at once, each on a line and then all at one spot, end with the same text", async ({ page, browser }) => {
  const { owner, url } = await ownProject(page, { user: "tri", project: "Trio", slug: "trio", file: "trio.txt", text: "one\ntwo\nthree" });
  const second = await person(browser, "trb");
  const third = await person(browser, "trc");
  await addMember(page, "Trio", second.name, "editor");
  await addMember(page, "Trio", third.name, "editor");
  await openFile(second.page, url, "trio.txt");
  await openFile(third.page, url, "trio.txt");
  const typists = [page, second.page, third.page];

  // Each at the end of a line of their own, all typing at once: pushes cross, and the server rebases them.
  for (const [i, p] of typists.entries()) {
    await expect.poll(() => docText(p)).toBe("one\ntwo\nthree");
    await editorContent(p).getByText(["one", "two", "three"][i]).click();
    await p.keyboard.press("End");
  }
  await Promise.all(typists.map((p, i) => p.keyboard.type(` typed by ${i} 😀 with some more words`)));
  const lines = ["one", "two", "three"].map((line, i) => `${line} typed by ${i} 😀 with some more words`).join("\n");
  for (const p of typists) await expect.poll(() => docText(p)).toBe(lines);

  // All three at the very start: every keystroke is kept, in the same order everywhere.
  for (const p of typists) {
    await editorContent(p).click();
    await p.keyboard.press("ControlOrMeta+Home");
  }
  const words = ["abcdefgh", "ijklmnop", "qrstuvwx"];
  await Promise.all(typists.map((p, i) => p.keyboard.type(words[i])));
  await expect.poll(async () => (await docText(page)).length).toBe(lines.length + 24);
  const final = await docText(page);
  expect([...final.slice(0, 24)].sort().join("")).toBe([...words.join("")].sort().join(""));
  expect(final.slice(24)).toBe(lines);
  for (const p of typists) {
    await expect.poll(() => docText(p)).toBe(final);
    await expect(p.getByTestId("save-status")).toHaveText("Saved");
    await expect(p.getByText(/couldn't be kept/)).toHaveCount(0);
  }
  const id = await projectId(page, owner, "trio");
  await expect.poll(async () => (await page.request.get(`/api/projects/${id}/files/trio.txt`)).text()).toBe(final);

  await second.close();
  await third.close();
});

test("an invite link lets someone in; the tree, renames and edits made offline reach everyone", async ({ page, browser }) => {
  const { owner, url } = await ownProject(page, { user: "lnk", project: "Open Door", slug: "open-door", file: "notes.txt", text: "start" });

  await page.getByRole("banner").getByRole("button", { name: "Invite" }).click();
  const share = page.getByRole("dialog", { name: "Share Open Door" });
  await share.getByLabel("Link role").selectOption("editor");
  await share.getByLabel("Link expires after").selectOption({ label: "Expires after 1 day" });
  await share.getByRole("button", { name: "Create link" }).click();
  const link = await share.getByTestId("invite-url").inputValue();
  expect(link).toMatch(/\/invite\/\S+$/);
  await expect(share.getByRole("list", { name: "Active invite links" }).getByRole("listitem")).toHaveCount(1);
  await page.keyboard.press("Escape");

  const guest = await person(browser, "gst");
  await guest.page.goto(new URL(link).pathname);
  await expect(guest.page.getByRole("heading", { name: `${owner} invites you to edit ${owner}/open-door` })).toBeVisible();
  await guest.page.getByRole("button", { name: "Accept and open Open Door" }).click();
  await expect(guest.page).toHaveURL(url);
  await expect(guest.page.getByTestId("project-name")).toHaveText("Open Door");

  // A file one person adds appears in the other's tree without a reload.
  await newFile(page, "added.js");
  await expect(treeItem(guest.page, "added.js")).toBeVisible();

  // Both on notes.txt; the guest loses the network, types, and comes back.
  await treeItem(page, "notes.txt").click();
  await treeItem(guest.page, "notes.txt").click();
  await expect.poll(() => docText(guest.page)).toBe("start");
  await guest.page.context().setOffline(true);
  await expect(guest.page.getByTestId("connection")).toHaveText("Offline");
  await editorContent(guest.page).click();
  await guest.page.keyboard.press("ControlOrMeta+End");
  await guest.page.keyboard.type(" and offline words");
  await expect(guest.page.getByTestId("save-status")).toHaveText("Offline — changes kept");
  expect(await docText(page)).toBe("start");
  await guest.page.context().setOffline(false);
  await expect(guest.page.getByText("Reconnected")).toBeVisible();
  await expect.poll(() => docText(page)).toBe("start and offline words");
  await expect(guest.page.getByTestId("save-status")).toHaveText("Saved");

  // The owner renames the file: the guest's tab follows and is told.
  await treeItem(page, "notes.txt").click({ button: "right" });
  await page.getByRole("menuitem", { name: "Rename…" }).click();
  const rename = page.getByRole("dialog", { name: /Rename/ });
  await rename.getByLabel("New path").fill("journal.txt");
  await rename.getByRole("button", { name: "Rename" }).click();
  await expect(guest.page.getByText("notes.txt was moved to journal.txt")).toBeVisible();
  await expect(guest.page.getByRole("tab", { name: "journal.txt" })).toHaveAttribute("aria-selected", "true");
  await expect(treeItem(guest.page, "journal.txt")).toBeVisible();

  await guest.close();
});

test("a file with Windows line endings is edited live and keeps them", async ({ page }) => {
  const { owner, url } = await ownProject(page, { user: "crl", project: "Windows Pad", slug: "windows-pad", file: "readme.txt", text: "hi" });
  const id = await projectId(page, owner, "windows-pad");
  const put = await page.request.put(`/api/projects/${id}/files/win.txt`, { data: "one\r\ntwo\r\nthree\r\n" });
  expect(put.ok()).toBeTruthy();

  await openFile(page, url, "win.txt");
  await expect.poll(() => docText(page)).toBe("one\ntwo\nthree\n");
  // An edit after the first line, where the \r the editor does not count would have shifted it.
  await editorContent(page).getByText("three").click();
  await page.keyboard.press("End");
  await page.keyboard.type(" 3\nfour");
  await expect(page.getByTestId("save-status")).toHaveText("Saved");
  await expect.poll(async () => (await page.request.get(`/api/projects/${id}/files/win.txt`)).text()).toBe("one\r\ntwo\r\nthree 3\r\nfour\r\n");
  expect(await docText(page)).toBe("one\ntwo\nthree 3\nfour\n");
});
