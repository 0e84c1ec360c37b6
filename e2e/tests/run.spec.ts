import { expect, test, type Page } from "@playwright/test";
import { createProject, editorContent, newFile, signUp, uniqueUser } from "./helpers";

// Runs, the console, the preview and shells, against the real sandbox.

const SERVER_JS = `const http = require("http");
const port = process.env.PORT;
http
  .createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<h1>Hello from the sandbox</h1><p>at " + req.url + "</p>");
  })
  .listen(port, () => console.log("listening on " + port));
`;

const PACKAGE_JSON = `{
  "name": "hello",
  "private": true,
  "scripts": { "start": "node index.js" }
}
`;

/** Creates a file through the tree and the editor, and saves it. */
async function writeFile(page: Page, path: string, text: string) {
  await newFile(page, path);
  await editorContent(page).click();
  await page.keyboard.insertText(text);
  await page.keyboard.press("ControlOrMeta+s");
  await expect(page.getByTestId("save-status")).toHaveText("Saved");
}

const header = (page: Page) => page.getByRole("banner");
const runStatus = (page: Page) => header(page).getByTestId("run-status");
const toolTab = (page: Page, name: string) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name });
const consoleOutput = (page: Page) => page.getByTestId("console-output").locator(".xterm-rows");

test("a person runs a Node server, sees its log and its page, stops it, and uses two shells", async ({ page }) => {
  test.setTimeout(120_000);
  await signUp(page, uniqueUser("run"));
  await createProject(page, "Web App");
  await writeFile(page, "index.js", SERVER_JS);
  await writeFile(page, "package.json", PACKAGE_JSON);

  // The empty console says what Run will do.
  await toolTab(page, "Console").click();
  await expect(page.getByTestId("run-plan")).toContainText("Run will execute node index.js");

  await header(page).getByRole("button", { name: "Run", exact: true }).click();
  await expect(header(page).getByRole("button", { name: "Stop", exact: true })).toBeVisible();
  await expect(runStatus(page)).toHaveText("Running", { timeout: 30_000 });

  // Once the app listens, the Preview shows its page.
  await expect(toolTab(page, "Preview")).toHaveAttribute("aria-selected", "true", { timeout: 30_000 });
  const preview = page.frameLocator('iframe[title="Preview"]');
  await expect(preview.getByRole("heading", { name: "Hello from the sandbox" })).toBeVisible({ timeout: 20_000 });

  // The path bar navigates inside the app.
  await page.getByLabel("Preview path").fill("/about");
  await page.getByLabel("Preview path").press("Enter");
  await expect(preview.getByText("at /about")).toBeVisible();

  await toolTab(page, "Console").click();
  await expect(consoleOutput(page)).toContainText("listening on 3000");
  await expect(page.getByTestId("console-header")).toContainText("node index.js");

  await header(page).getByRole("button", { name: "Stop", exact: true }).click();
  await expect(runStatus(page)).toHaveText("Stopped");
  await expect(header(page).getByRole("button", { name: "Run", exact: true })).toBeVisible();
  await expect(page.getByTestId("console-status")).toContainText("Stopped");

  // Ctrl/Cmd-` opens a shell with the keyboard in it.
  await page.keyboard.press("ControlOrMeta+`");
  await expect(toolTab(page, "Shell")).toHaveAttribute("aria-selected", "true");
  const first = page.getByRole("tabpanel", { name: "Shell 1" });
  await expect(first.getByTestId("shell-status")).toHaveCount(0, { timeout: 30_000 });
  await expect(first.getByTestId("shell-terminal").locator("textarea")).toBeFocused();
  await page.keyboard.type("ls");
  await page.keyboard.press("Enter");
  await expect(first.locator(".xterm-rows")).toContainText("index.js");
  await expect(first.locator(".xterm-rows")).toContainText("package.json");

  // A second shell is its own terminal.
  await page.getByRole("button", { name: "New shell" }).click();
  const second = page.getByRole("tabpanel", { name: "Shell 2" });
  await expect(second.getByTestId("shell-status")).toHaveCount(0, { timeout: 30_000 });
  await expect(first).toBeHidden();
  await page.keyboard.type("echo second-$((6*7))");
  await page.keyboard.press("Enter");
  await expect(second.locator(".xterm-rows")).toContainText("second-42");

  // Exiting a shell says so and offers a new session.
  await page.keyboard.type("exit");
  await page.keyboard.press("Enter");
  await expect(second.getByTestId("shell-status")).toContainText("The shell exited");
  await expect(second.getByRole("button", { name: "New session" })).toBeVisible();
});

test("a program that crashes shows crashed, its exit code and its last output by the Run button", async ({ page }) => {
  test.setTimeout(90_000);
  await signUp(page, uniqueUser("crash"));
  await createProject(page, "Crashy");
  await writeFile(page, "index.js", 'console.log("starting up");\nconsole.error("boom: the config is missing");\nprocess.exit(3);\n');

  await page.keyboard.press("ControlOrMeta+Enter");
  await expect(runStatus(page)).toHaveText("Crashed (exit 3)", { timeout: 30_000 });

  // The notice opens by itself, without taking the keyboard from the editor.
  const notice = page.getByRole("dialog", { name: "Run problem" });
  await expect(notice).toContainText("Crashed with exit code 3");
  await expect(notice.getByTestId("crash-output")).toContainText("boom: the config is missing");
  await expect(editorContent(page)).toBeFocused();

  await notice.getByRole("button", { name: "Open console" }).click();
  await expect(notice).toBeHidden();
  await expect(page.getByTestId("console-status")).toContainText("Crashed (exit 3)");
  await expect(consoleOutput(page)).toContainText("starting up");
  await expect(consoleOutput(page)).toContainText("boom: the config is missing");
  await expect(header(page).getByRole("button", { name: "Run", exact: true })).toBeVisible();
});

test("the owner turns internet access on and off from the project menu", async ({ page }) => {
  await signUp(page, uniqueUser("net"));
  await createProject(page, "Net Access");
  const menu = page.getByRole("button", { name: /Project .* menu/ });
  await menu.click();
  await page.getByRole("menuitem", { name: "Allow internet access" }).click();
  await expect(page.getByText("The sandbox may now reach any public host")).toBeVisible();
  await menu.click();
  await page.getByRole("menuitem", { name: "Limit internet to package registries" }).click();
  await expect(page.getByText("The sandbox now reaches package registries only")).toBeVisible();
  const [owner, slug] = new URL(page.url()).pathname.slice("/@".length).split("/");
  const res = await page.request.get(`/api/users/${owner}/projects/${slug}`);
  expect((await res.json()).project.internet).toBe(false);
});

test("a person picks React Dashboard, presses Run, and sees its charts in the Preview", async ({ page }) => {
  test.setTimeout(240_000);
  await signUp(page, uniqueUser("dash"));
  await createProject(page, "Sales Dashboard", "React Dashboard");
  await header(page).getByRole("button", { name: "Run", exact: true }).click();
  // npm install, then Vite compiles on the first request.
  await expect(toolTab(page, "Preview")).toHaveAttribute("aria-selected", "true", { timeout: 180_000 });
  const preview = page.frameLocator('iframe[title="Preview"]');
  await expect(preview.locator("canvas").first()).toBeVisible({ timeout: 60_000 });
  expect(await preview.locator("canvas").count()).toBeGreaterThanOrEqual(3);
});

test("a secret set in the Secrets pane reaches the run, and the console masks it", async ({ page }) => {
  test.setTimeout(90_000);
  await signUp(page, uniqueUser("secret"));
  await createProject(page, "Keyed");
  await writeFile(page, "ecode.toml", 'run = "echo token is $API_TOKEN; echo length ${#API_TOKEN}"\n');

  await toolTab(page, "Secrets").click();
  const pane = page.getByRole("tabpanel", { name: "Secrets" });
  await pane.getByLabel("Name").fill("API_TOKEN");
  await pane.getByLabel("Value").fill("tok-1234567890");
  await pane.getByRole("button", { name: "Save secret" }).click();
  const list = pane.getByRole("list", { name: "Secrets" });
  await expect(list).toContainText("API_TOKEN");
  await list.getByRole("button", { name: "Show API_TOKEN" }).click();
  await expect(pane.getByTestId("secret-value")).toHaveText("tok-1234567890");

  await toolTab(page, "Console").click();
  await header(page).getByRole("button", { name: "Run", exact: true }).click();
  await expect(consoleOutput(page)).toContainText("length 14", { timeout: 30_000 });
  await expect(consoleOutput(page)).toContainText("token is ********");
  await expect(consoleOutput(page)).not.toContainText("tok-1234567890");
});
