import { expect, test } from "@playwright/test";
import { createProject, signUp, uniqueUser } from "./helpers";

test("an owner gives the project more memory in Settings, restarts the sandbox and sees it applied; the log names who and which project", async ({
  page,
}) => {
  const owner = uniqueUser("res");
  await signUp(page, owner);
  await createProject(page, "Roomy Project");

  await page.getByRole("tab", { name: "Settings" }).click();
  const form = page.getByRole("form", { name: "Sandbox resources" });
  const memory = form.getByLabel("Memory", { exact: true });
  await expect(memory).toHaveValue("1024");

  // Over the administrator's ceiling: said before anything is sent.
  await memory.fill("999999");
  await expect(form.getByRole("alert")).toContainText("At most 4 GiB on this server");
  await expect(form.getByRole("button", { name: "Save" })).toBeDisabled();

  await memory.fill("384");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("status")).toContainText("apply when the sandbox restarts");
  await expect(form.getByText("this project's own")).toBeVisible();

  await page.getByRole("button", { name: "Restart sandbox" }).click();
  await expect(page.getByTestId("sandbox-memory")).toContainText("of 384 MiB");
  await expect(page.getByTestId("sandbox-pids")).toContainText("of 256");

  // The security log says who changed which project, by name.
  await page.goto("/settings");
  const entry = page.getByRole("list", { name: "Security log" }).getByRole("listitem").filter({ hasText: "Project resources changed" });
  await expect(entry).toContainText(`by ${owner}`);
  await expect(entry).toContainText("project Roomy Project");
});
