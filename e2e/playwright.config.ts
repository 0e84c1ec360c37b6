import { defineConfig, devices } from "@playwright/test";
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The tests drive the real, already built server binary (../bin/ecode, with the
// web UI embedded) against a fresh data directory, through the system Chromium.
// Build first: (cd web && npm ci && npm run build) && go build -o bin/ecode ./cmd/ecode
//
// The AI features talk to a scripted stand-in for the model (go run, so Go must be installed).
//
// E2E_BASE_URL points the tests at a server that is already running instead.

const port = Number(process.env.E2E_PORT ?? 18080);
const modelPort = Number(process.env.E2E_MODEL_PORT ?? 18091);
const providerPort = Number(process.env.E2E_PROVIDER_PORT ?? 18092);
const external = process.env.E2E_BASE_URL;
const baseURL = external ?? `http://127.0.0.1:${port}`;

// Playwright loads this file in every worker too; only the main process starts the server.
// The sandbox runs programs as unprivileged uids that must reach into the data
// directory, and mkdtemp makes it 0700.
const dataDir = process.env.ECODE_E2E_DATA_DIR ?? mkdtempSync(join(tmpdir(), "ecode-e2e-"));
if (!process.env.ECODE_E2E_DATA_DIR) chmodSync(dataDir, 0o711);
process.env.ECODE_E2E_DATA_DIR = dataDir;

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: "list",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    headless: true,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: "/usr/bin/chromium",
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
          ],
        },
      },
    },
  ],
  webServer: external
    ? undefined
    : [
        {
          // A stand-in for the model: it serves the Anthropic Messages API and plays
          // fixed scripts chosen by the prompt (see bench/agent/scripted-model).
          command: `go run ../bench/agent/scripted-model -addr 127.0.0.1:${modelPort}`,
          url: `http://127.0.0.1:${modelPort}/health`,
          reuseExistingServer: false,
          timeout: 120_000,
        },
        {
          // Stand-ins for the login providers, each below /{provider}, whose consent page asks
          // who logs in (see internal/oauth/oauthtest).
          command: `go run ../internal/oauth/oauthtest/cmd/fakeproviders -addr 127.0.0.1:${providerPort}`,
          url: `http://127.0.0.1:${providerPort}/health`,
          reuseExistingServer: false,
          timeout: 120_000,
        },
        {
          // The server's log goes to server.log in its data directory, out of the test report.
          command: `../bin/ecode serve >"${join(dataDir, "server.log")}" 2>&1`,
          url: `${baseURL}/api/monitoring/health`,
          env: {
            ECODE_ADDR: `127.0.0.1:${port}`,
            ECODE_DATA_DIR: dataDir,
            // The public URL is 127.0.0.1, where most tests log in and where a private preview
            // sends the browser back for its pass; passkeys work at localhost on the same port,
            // the default for a loopback public URL (passkey.spec.ts, first-hour.spec.ts).
            ECODE_ANTHROPIC_BASE_URL: `http://127.0.0.1:${modelPort}`,
            ECODE_ANTHROPIC_API_KEY: "test-key",
            // Automatic checkpoints within a test's time (history.spec.ts).
            ECODE_AUTO_CHECKPOINT: "1s",
            ECODE_AUTO_CHECKPOINT_GAP: "1s",
            // Scheduled deployments on schedules of seconds (deploy.spec.ts).
            ECODE_MIN_SCHEDULE_INTERVAL: "1s",
            // Usage metered and rated within a second, for the usage page.
            ECODE_METER_INTERVAL: "1s",
            ECODE_RATING_INTERVAL: "1s",
            // Log in with GitHub and Google, played by the fake providers below (oauth.spec.ts).
            ECODE_OAUTH_GITHUB_CLIENT_ID: "github-client",
            ECODE_OAUTH_GITHUB_CLIENT_SECRET: "e2e-secret",
            ECODE_OAUTH_GITHUB_BASE_URL: `http://127.0.0.1:${providerPort}/github`,
            ECODE_OAUTH_GOOGLE_CLIENT_ID: "google-client",
            ECODE_OAUTH_GOOGLE_CLIENT_SECRET: "e2e-secret",
            ECODE_OAUTH_GOOGLE_BASE_URL: `http://127.0.0.1:${providerPort}/google`,
            // Simulated GPUs (no hardware behind them): an H100 split into two MIG slices and a whole
            // A100, for the GPU settings, the sandbox's GPU line and the admin page (gpu.spec.ts).
            ECODE_GPU_SIMULATE: "1xH100-80GB:mig=1g.10gb+1g.10gb,1xA100-40GB",
          },
          reuseExistingServer: false,
          timeout: 60_000,
        },
      ],
});
