import { expect, test, type Page } from "@playwright/test";
import { createProject, signUp, uniqueUser } from "./helpers";

// The Go template's Run, against the real sandbox and the shared Go build cache. The server
// compiles Go's standard library by itself from its start; a Run that comes before that build
// ends waits for it, saying so, so on a fresh server this test may wait minutes.

const header = (page: Page) => page.getByRole("banner");
const runStatus = (page: Page) => header(page).getByTestId("run-status");
const toolTab = (page: Page, name: string) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name });
const consoleOutput = (page: Page) => page.getByTestId("console-output").locator(".xterm-rows");

test("a person runs a new Go project, follows its build and sees its page", async ({ page }) => {
  test.setTimeout(360_000);
  await signUp(page, uniqueUser("gopher"));
  await createProject(page, "Go Web", "Go");

  // The console says what Run will do: build, then start the program.
  await toolTab(page, "Console").click();
  await expect(page.getByTestId("run-plan")).toContainText("Run will execute ~/.cache/app");
  await expect(page.getByTestId("run-plan")).toContainText("go build -o ~/.cache/app . builds it before each run");

  await header(page).getByRole("button", { name: "Run", exact: true }).click();
  // Progress at once: the status, and in the console the build step's command, or first,
  // while the shared cache is still being built, a word that it is.
  await expect(runStatus(page)).toHaveText(/Starting…|Building…|Running/);
  await expect(consoleOutput(page)).toContainText(/\$ go build -o ~\/\.cache\/app \.|Compiling Go's standard library/);

  // Then the program's own output, and its page in the Preview.
  await expect(consoleOutput(page)).toContainText("Listening on http://localhost:3000", { timeout: 300_000 });
  await expect(runStatus(page)).toHaveText("Running");
  await expect(toolTab(page, "Preview")).toHaveAttribute("aria-selected", "true", { timeout: 30_000 });
  const preview = page.frameLocator('iframe[title="Preview"]');
  await expect(preview.getByRole("heading", { name: "Hello from Go" })).toBeVisible({ timeout: 20_000 });

  // Run again with nothing changed: the program is up to date, so it starts without compiling.
  await header(page).getByRole("button", { name: "Stop", exact: true }).click();
  await expect(runStatus(page)).toHaveText("Stopped");
  await header(page).getByRole("button", { name: "Run", exact: true }).click();
  await expect(preview.getByRole("heading", { name: "Hello from Go" })).toBeVisible({ timeout: 30_000 });
  await toolTab(page, "Console").click();
  await expect(consoleOutput(page)).toContainText("Listening on http://localhost:3000");
  await expect(consoleOutput(page)).not.toContainText("Compiling Go");
});
