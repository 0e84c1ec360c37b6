import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { editorContent, person, signUp, treeItem, uniqueUser } from "./helpers";

// Education end to end: a teacher makes a course and a pytest assignment with a visible and
// a hidden test; a student joins by code, starts their own copy, fixes it in the editor,
// checks the visible test, submits, and reads the score with per-test feedback; the teacher's
// progress grid shows it. The hidden test's text never reaches the student's browser. And an
// administrator registers an LMS platform (LTI 1.3) from Settings.

const MARKER = "HIDDEN_MARKER_q8z3";

const STARTER = `def add(a, b):
    return a - b
`;

const FIXED = `def add(a, b):
    return a + b
`;

const VISIBLE_TEST = `from main import add


def test_add_small():
    assert add(2, 3) == 5
`;

const HIDDEN_TEST = `from main import add


def test_add_negative():
    # ${MARKER}
    assert add(-4, 1) == -3
`;

/** Every API answer the page gets, kept to search for what must not be there. */
function recordResponses(page: Page): string[] {
  const bodies: string[] = [];
  page.on("response", (res) => {
    if (!res.url().includes("/api/")) return;
    res.text().then(
      (t) => bodies.push(t),
      () => undefined,
    );
  });
  return bodies;
}

test("a teacher sets a graded assignment; a student joins, checks, submits and sees the score", async ({ page, browser }) => {
  test.setTimeout(240_000);
  const teacher = uniqueUser("teach");
  await signUp(page, teacher);

  // Courses, from the account menu.
  await page.getByRole("button", { name: `Account menu for ${teacher}` }).click();
  await page.getByRole("menuitem", { name: "Courses" }).click();
  await expect(page.getByRole("heading", { name: "Courses", level: 1 })).toBeVisible();
  await expect(page.getByText("No courses yet")).toBeVisible();
  await page.getByRole("button", { name: "New course" }).click();
  const dialog = page.getByRole("dialog", { name: "New course" });
  await dialog.getByLabel("Name").fill("Intro to Python");
  await dialog.getByRole("button", { name: "Create course" }).click();
  await expect(page.getByRole("heading", { name: "Intro to Python", level: 1 })).toBeVisible();
  await expect(page.getByText("No assignments yet")).toBeVisible();

  // The assignment: instructions, a visible test and a hidden one, a rubric row, published.
  await page.getByRole("link", { name: "New assignment" }).click();
  await expect(page.getByRole("heading", { name: "New assignment" })).toBeVisible();
  await page.getByLabel("Title").fill("Fix the adder");
  await page.getByLabel("Instructions (Markdown)").fill("# Fix it\n\nMake `add(a, b)` in **main.py** return the sum.");
  await expect(page.getByLabel("Runner")).toHaveValue("pytest");
  await page.getByLabel("Test file 1 path").fill("test_main.py");
  await page.getByLabel("Test file 1 content").fill(VISIBLE_TEST);
  await page.getByRole("button", { name: "Hidden test file" }).click();
  await expect(page.getByLabel("Test file 2 hidden")).toBeChecked();
  await page.getByLabel("Test file 2 path").fill("test_hidden.py");
  await page.getByLabel("Test file 2 content").fill(HIDDEN_TEST);
  await page.getByRole("button", { name: "Rubric row" }).click();
  await page.getByLabel("Rubric row 1 title").fill("Readable code");
  await page.getByLabel("Rubric row 1 points").fill("10");
  await page.getByLabel("Published: students see it and can start").check();
  await page.getByRole("button", { name: "Create assignment" }).click();
  await expect(page.getByRole("heading", { name: "Fix the adder", level: 1 })).toBeVisible({ timeout: 30_000 });
  const [, courseId, assignmentId] = /\/courses\/([^/]+)\/assignments\/([^/?]+)/.exec(page.url()) ?? [];
  expect(assignmentId).toBeTruthy();

  // The starter's main.py: the function the students fix.
  const a = await page.request.get(`/api/courses/${courseId}/assignments/${assignmentId}`);
  expect(a.ok()).toBeTruthy();
  const { assignment } = (await a.json()) as { assignment: { starterProjectId: string } };
  const put = await page.request.put(`/api/projects/${assignment.starterProjectId}/files/main.py`, {
    data: STARTER,
    headers: { "Content-Type": "application/octet-stream" },
  });
  expect(put.ok()).toBeTruthy();
  await expect(page.getByTestId("open-starter")).toBeVisible();

  // The join code, from the course's settings.
  await page.goto(`/courses/${courseId}?tab=settings`);
  const code = (await page.getByTestId("join-code").textContent())?.trim() ?? "";
  expect(code).toMatch(/^[A-Z0-9]{8}$/i);
  await expect(page.getByTestId("join-link")).toContainText(`/courses/join/${code}`);

  // A student, in a browser of their own, joins by the code.
  const student = await person(browser, "stud");
  const sp = student.page;
  const seen = recordResponses(sp);
  await sp.goto("/courses");
  await sp.getByLabel("Join a course").fill(code.toLowerCase());
  await sp.getByRole("button", { name: "Join", exact: true }).click();
  await expect(sp.getByRole("heading", { name: "Intro to Python", level: 1 })).toBeVisible();
  await sp.getByRole("link", { name: /Fix the adder/ }).click();
  await expect(sp.getByRole("heading", { name: "Fix the adder", level: 1 })).toBeVisible();
  await expect(sp.getByRole("region", { name: "Instructions" }).getByRole("heading", { name: "Fix it" })).toBeVisible();
  await expect(sp.getByText("1 hidden test runs when you submit.")).toBeVisible();
  expect(await sp.content()).not.toContain(MARKER);

  // Start: their own copy opens in the workspace, the Assignment pane showing.
  await sp.getByRole("button", { name: "Start" }).click();
  await expect(sp.getByTestId("file-tree")).toBeVisible({ timeout: 30_000 });
  const pane = sp.getByTestId("assignment-pane");
  await expect(pane).toBeVisible({ timeout: 15_000 });
  await expect(pane.getByRole("heading", { name: "Fix the adder" })).toBeVisible();
  await expect(treeItem(sp, "test_main.py")).toBeVisible();
  await expect(treeItem(sp, "test_hidden.py")).toHaveCount(0);

  // Fix main.py in the editor.
  await treeItem(sp, "main.py").click();
  await expect(editorContent(sp)).toContainText("return a - b");
  await editorContent(sp).click();
  await sp.keyboard.press("ControlOrMeta+a");
  await sp.keyboard.insertText(FIXED);
  await sp.keyboard.press("ControlOrMeta+s");
  await expect(sp.getByTestId("save-status")).toHaveText("Saved");

  // Check runs the visible test now.
  await pane.getByRole("button", { name: "Check", exact: true }).click();
  const check = pane.getByRole("region", { name: "Check results" });
  await expect(check).toBeVisible({ timeout: 60_000 });
  await expect(check).toContainText("1 of 1 test passed");
  await expect(check.getByTestId("test-row")).toContainText("test_add_small");

  // Submit, confirm, and the score arrives when grading ends.
  await pane.getByRole("button", { name: "Submit", exact: true }).click();
  const confirm = sp.getByRole("alertdialog", { name: "Submit your work?" });
  await confirm.getByRole("button", { name: "Submit" }).click();
  await expect(confirm).toBeHidden();
  const summary = pane.getByTestId("submission-summary");
  await expect(summary.getByTestId("submission-score")).toHaveText("100 / 110", { timeout: 120_000 });
  const results = summary.getByTestId("grade-result");
  await expect(results).toContainText("2 of 2 tests passed");
  await expect(results.getByTestId("test-row").filter({ hasText: "test_add_small" })).toBeVisible();
  const hidden = results.getByTestId("test-row").filter({ hasText: "Hidden test" });
  await expect(hidden).toHaveCount(1);
  await expect(hidden).toContainText("Passed");
  expect(await sp.content()).not.toContain(MARKER);

  // The course page says the same, and the student's own progress shows the score.
  await sp.goto(`/courses/${courseId}/assignments/${assignmentId}`);
  await expect(sp.getByTestId("submission-score")).toHaveText("100 / 110");
  expect(await sp.content()).not.toContain(MARKER);
  await sp.goto(`/courses/${courseId}?tab=progress`);
  await expect(sp.getByRole("tab", { name: "My progress" })).toBeVisible();
  await expect(sp.getByTestId("progress-cell")).toContainText("100 / 110");
  expect(await sp.content()).not.toContain(MARKER);

  // The teacher's grid: the student's score, and the submission in the list.
  await page.goto(`/courses/${courseId}?tab=progress`);
  const row = page.getByTestId("progress-row").filter({ hasText: student.name });
  await expect(row.getByTestId("progress-cell")).toContainText("100 / 110");
  await expect(page.getByRole("link", { name: "Download CSV" })).toHaveAttribute("href", `/api/courses/${courseId}/progress.csv`);
  await page.goto(`/courses/${courseId}/assignments/${assignmentId}`);
  const submission = page.getByTestId("submission-row").filter({ hasText: student.name });
  await expect(submission.getByTestId("submission-score")).toHaveText("100 / 110");
  await submission.getByRole("button", { name: student.name }).click();
  const drawer = page.getByRole("dialog", { name: `${student.name} · submission 1` });
  await expect(drawer.getByTestId("test-row").filter({ hasText: "Hidden test" })).toHaveCount(1);
  await expect(drawer.getByRole("button", { name: /^main\.py/ })).toBeVisible();

  // Grading by hand on top of the tests: the rubric row, a comment and feedback.
  await drawer.getByLabel("Points for Readable code").fill("8");
  await drawer.getByLabel("Comment on Readable code").fill("Clear names");
  await drawer.getByLabel("Feedback").fill("Nice work: try an edge case next time.");
  await drawer.getByRole("button", { name: "Save grade" }).click();
  await expect(drawer.getByTestId("submission-score")).toHaveText("108 / 110");
  await page.keyboard.press("Escape");
  await expect(submission.getByTestId("submission-score")).toHaveText("108 / 110");

  // The student reads the new score, the rubric's comment and the feedback.
  await sp.goto(`/courses/${courseId}/assignments/${assignmentId}`);
  const mine = sp.getByTestId("submission-summary");
  await expect(mine.getByTestId("submission-score")).toHaveText("108 / 110");
  await expect(mine).toContainText("Nice work: try an edge case next time.");
  await expect(mine).toContainText("Readable code: 8 / 10 pts · Clear names");
  expect(await sp.content()).not.toContain(MARKER);
  expect(seen.length).toBeGreaterThan(0);
  expect(seen.filter((body) => body.includes(MARKER))).toEqual([]);
  await student.close();
});

test("an administrator registers an LMS platform, with the tool's URLs to give the LMS, removes it and rotates the key", async ({ page }) => {
  const admin = uniqueUser("ltiadm");
  await signUp(page, admin);
  execFileSync("../bin/ecode", ["admin", "grant-admin", "-username", admin], {
    env: { ...process.env, ECODE_DATA_DIR: process.env.ECODE_E2E_DATA_DIR ?? "" },
  });
  await page.goto("/settings");
  const section = page.getByRole("region", { name: "LMS platforms (LTI 1.3)" });
  const urls = section.getByRole("definition");
  await expect(urls).toHaveCount(4);
  await expect(urls.first()).toHaveText(/\/lti\/login$/);
  await expect(section.getByText("No platforms registered yet.")).toBeVisible();

  const issuer = `https://lms-${admin}.example.edu`;
  await section.getByRole("button", { name: "Add platform" }).click();
  const form = section.getByRole("form", { name: "Add an LMS platform" });
  await form.getByLabel("Name").fill("Campus Canvas");
  await form.getByLabel("Issuer").fill(issuer);
  await form.getByLabel("Client ID").fill("10000000000042");
  await form.getByLabel("Deployment IDs").fill("dep-1, dep-2");
  await form.getByLabel("Authentication (OIDC) URL").fill(`${issuer}/api/lti/authorize_redirect`);
  await form.getByLabel("Access token URL").fill(`${issuer}/login/oauth2/token`);
  await form.getByLabel("Platform JWKS URL").fill(`${issuer}/api/lti/security/jwks`);
  await form.getByRole("button", { name: "Register platform" }).click();
  const list = section.getByRole("list", { name: "LMS platforms" });
  await expect(list.getByRole("listitem")).toHaveCount(1);
  await expect(list).toContainText("Campus Canvas");
  await expect(list).toContainText("deployments dep-1, dep-2");

  // The same issuer and client again is refused, and says why.
  await section.getByRole("button", { name: "Add platform" }).click();
  await form.getByLabel("Name").fill("Again");
  await form.getByLabel("Issuer").fill(issuer);
  await form.getByLabel("Client ID").fill("10000000000042");
  await form.getByLabel("Deployment IDs").fill("dep-3");
  await form.getByLabel("Authentication (OIDC) URL").fill(`${issuer}/auth`);
  await form.getByLabel("Access token URL").fill(`${issuer}/token`);
  await form.getByLabel("Platform JWKS URL").fill(`${issuer}/jwks`);
  await form.getByRole("button", { name: "Register platform" }).click();
  await expect(form.getByRole("alert")).toContainText("registered already");
  await form.getByRole("button", { name: "Cancel" }).click();

  await list.getByRole("button", { name: "Remove Campus Canvas" }).click();
  const confirm = page.getByRole("alertdialog", { name: "Remove Campus Canvas?" });
  await confirm.getByRole("button", { name: "Remove platform" }).click();
  await expect(section.getByText("No platforms registered yet.")).toBeVisible();

  // A new signing key for the tool.
  await section.getByRole("button", { name: "Rotate signing key" }).click();
  await page.getByRole("alertdialog", { name: "Rotate the tool's signing key?" }).getByRole("button", { name: "Rotate key" }).click();
  await expect(page.getByText("Signing key rotated")).toBeVisible();
});
