import { execFileSync } from "node:child_process";
import { expect, test, type Page } from "@playwright/test";
import { createProject, person, projectId, signUp, uniqueUser } from "./helpers";

// GPUs, against the server's simulated ones (ECODE_GPU_SIMULATE in playwright.config.ts: an H100 in MIG
// mode with two 1g.10gb slices, and a whole A100): a project asks for a slice in its settings, its
// sandbox holds one while it runs, and an administrator sees who holds it.

test.describe.configure({ timeout: 120_000 });

const toolTab = (page: Page, name: string) => page.getByRole("tablist", { name: "Tools" }).getByRole("tab", { name });
const resources = (page: Page) => page.getByRole("form", { name: "Sandbox resources" });
const shellPanel = (page: Page) => page.getByRole("tabpanel", { name: "Shell 1" });

test("an owner gives a project a MIG slice that outlives a reload; its shell sees the slice; an administrator sees it held", async ({
  page,
  browser,
}) => {
  const owner = uniqueUser("gpu");
  await signUp(page, owner);
  await createProject(page, "Cuda Lab");
  const id = await projectId(page, owner, "cuda-lab");

  // Off by default; the server's GPUs are marked simulated so nobody takes them for real ones.
  await toolTab(page, "Settings").click();
  const form = resources(page);
  const gpu = form.getByRole("switch", { name: "GPU" });
  await expect(gpu).not.toBeChecked();
  await expect(form.getByTestId("gpu-choice")).toContainText("simulated");
  await gpu.click();
  const kind = form.getByLabel("GPU kind");
  await expect(kind.locator('option[value="mig-1g.10gb"]')).toHaveCount(1);
  await expect(kind.locator('option[value="whole"]')).toHaveCount(1);
  await kind.selectOption("mig-1g.10gb");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("status")).toContainText("Saved");

  await page.reload();
  await toolTab(page, "Settings").click();
  await expect(resources(page).getByRole("switch", { name: "GPU" })).toBeChecked();
  await expect(resources(page).getByLabel("GPU kind")).toHaveValue("mig-1g.10gb");

  // A shell starts the sandbox, which holds one of the slices: its programs are shown that slice alone.
  await toolTab(page, "Shell").click();
  await expect(shellPanel(page).getByTestId("shell-status")).toHaveCount(0, { timeout: 30_000 });
  await shellPanel(page).getByTestId("shell-terminal").click();
  await page.keyboard.type("echo gpu=$CUDA_VISIBLE_DEVICES");
  await page.keyboard.press("Enter");
  await expect(shellPanel(page).locator(".xterm-rows")).toContainText("gpu=MIG-SIMULATED-0-");

  // The resources view names the unit and says it is simulated (no readings to show).
  await toolTab(page, "Settings").click();
  const line = page.getByTestId("sandbox-gpu");
  await expect(line).toContainText("MIG 1g.10gb", { timeout: 15_000 });
  await expect(line).toContainText("simulated");

  // An administrator, in a browser of their own while the shell keeps the sandbox running, sees the
  // devices and that one slice is held, by the project's sandbox.
  const admin = await person(browser, "gpuadm");
  execFileSync("../bin/ecode", ["admin", "grant-admin", "-username", admin.name], {
    env: { ...process.env, ECODE_DATA_DIR: process.env.ECODE_E2E_DATA_DIR ?? "" },
  });
  await admin.page.goto("/settings");
  const section = admin.page.getByRole("region", { name: "GPUs" });
  await expect(section.getByRole("list", { name: "GPU devices" })).toContainText("simulated H100-80GB");
  await expect(section.getByRole("list", { name: "GPU devices" })).toContainText("simulated A100-40GB");
  const units = section.getByRole("list", { name: "GPU units" }).getByRole("listitem");
  await expect(units).toHaveCount(3);
  const held = units.filter({ hasText: id });
  await expect(held).toHaveCount(1);
  await expect(held).toContainText("MIG 1g.10gb");
  await expect(held).toContainText(/held by .+ since/);
  await expect(units.filter({ hasText: "simulated A100-40GB" })).toContainText("free");
  await admin.close();
});

test("an app deployment asks for a whole GPU, kept in its settings", async ({ page }) => {
  await signUp(page, uniqueUser("gpudep"));
  await createProject(page, "Gpu App", "Node.js");
  await toolTab(page, "Deploy").click();
  const pane = page.getByTestId("deploy-pane");
  // A static site runs nothing that could use a GPU: the choice is offered to autoscale and vm apps.
  await expect(pane.getByRole("switch", { name: "GPU" })).toHaveCount(0);
  await pane.getByRole("radiogroup", { name: "Deployment type" }).getByRole("radio", { name: "Autoscale" }).click();
  await pane.getByLabel("Run command").fill("node index.js");
  await pane.getByRole("switch", { name: "GPU" }).click();
  await pane.getByLabel("GPU kind").selectOption("whole");
  await pane.getByRole("button", { name: "Save settings" }).click();
  await expect(pane.getByRole("button", { name: "Save settings" })).toBeDisabled();

  await page.reload();
  await toolTab(page, "Deploy").click();
  await expect(pane.getByRole("switch", { name: "GPU" })).toBeChecked();
  await expect(pane.getByLabel("GPU kind")).toHaveValue("whole");
});
