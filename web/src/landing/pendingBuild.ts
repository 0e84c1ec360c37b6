// A prompt typed on the landing page before signing up, kept in this tab's
// sessionStorage (not the URL: it may be long or hold line breaks) until the
// dashboard opens Build with AI with it.

const key = "ecode.pendingBuild";

/** The query that asks the dashboard to open Build with AI with the kept prompt. */
export const buildAfterSignIn = "/?build=1";

export function keepPrompt(prompt: string) {
  try {
    sessionStorage.setItem(key, prompt);
  } catch {
    // Storage disabled: the person types the prompt again after signing up.
  }
}

/** The kept prompt; "" when there is none. */
export function keptPrompt(): string {
  try {
    return sessionStorage.getItem(key) ?? "";
  } catch {
    return "";
  }
}

export function forgetPrompt() {
  try {
    sessionStorage.removeItem(key);
  } catch {
    // Nothing was kept.
  }
}
