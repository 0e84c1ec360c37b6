import { expect, test, type APIRequestContext } from "@playwright/test";
import { PASSWORD, signUp, uniqueUser } from "./helpers";

// The device's side of `ecode login` (RFC 8628) is played here through the API;
// the person's side is the /device page.

interface DeviceCodes {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  expiresIn: number;
  interval: number;
}

async function startDeviceLogin(request: APIRequestContext, clientName: string): Promise<DeviceCodes> {
  const res = await request.post("/api/auth/device/code", { data: { clientName } });
  expect(res.status()).toBe(200);
  return (await res.json()) as DeviceCodes;
}

/** The device's poll, made once the person has decided (an earlier poll would ask it to slow down). */
async function poll(request: APIRequestContext, codes: DeviceCodes) {
  const res = await request.post("/api/auth/device/token", { data: { deviceCode: codes.deviceCode } });
  return { status: res.status(), body: (await res.json()) as Record<string, unknown> };
}

test("a person logs in from the page a device login opened, approves it, and the device gets a token", async ({ page, request }) => {
  const user = uniqueUser("device");
  await signUp(page, user);
  expect((await page.request.post("/api/auth/logout")).status()).toBe(204);

  const codes = await startDeviceLogin(request, "ecode CLI on e2e-box");
  expect(codes.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
  expect(codes.verificationUriComplete).toBe(`${codes.verificationUri}?code=${codes.userCode}`);

  // Logged out: the login page first, then back to the code.
  await page.goto(codes.verificationUriComplete);
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Username or email").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page.getByRole("heading", { name: "Approve ecode CLI on e2e-box to use your account?" })).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/device\\?code=${codes.userCode}$`));
  await expect(page.getByText(codes.userCode)).toBeVisible();

  await page.getByRole("button", { name: "Approve", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Device approved" })).toContainText(
    "You can close this tab and return to the terminal",
  );

  const answer = await poll(request, codes);
  expect(answer.status).toBe(200);
  const token = answer.body.token as string;
  expect(token).toMatch(/^ecode_/);
  expect((answer.body.user as { username: string }).username).toBe(user);
  const me = await request.get("/api/auth/me", { headers: { Authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);

  // The token is one of the account's, revocable in Settings.
  await page.goto("/settings");
  await expect(page.getByRole("table", { name: "Your API tokens" })).toContainText("ecode CLI on e2e-box");
});

test("a person types the code a device shows, fixes a wrong one, and denies the login", async ({ page, request }) => {
  await signUp(page, uniqueUser("deny"));
  const codes = await startDeviceLogin(request, "ecode CLI on someone-else");

  await page.goto("/device");
  const field = page.getByLabel("Code");
  await field.fill("BBBB-BBBB");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByText("No login is waiting for this code")).toBeVisible();
  await expect(field).toHaveValue("BBBB-BBBB");

  // Any case, with or without the dash.
  await field.fill(codes.userCode.replace("-", "").toLowerCase());
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("heading", { name: "Approve ecode CLI on someone-else to use your account?" })).toBeVisible();
  await page.getByRole("button", { name: "Deny", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "Login denied" })).toBeVisible();

  const answer = await poll(request, codes);
  expect(answer.status).toBe(400);
  expect((answer.body.error as { code: string }).code).toBe("access_denied");
});
