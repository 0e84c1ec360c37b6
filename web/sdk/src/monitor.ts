// The browser side of E-Code monitoring: errors, Web Vitals, page views, failed requests and
// custom events, batched to the platform's ingest route; session replay is loaded on demand
// from replay.js so that pages which are not recorded never download rrweb.
import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from "web-vitals";

export interface Options {
  /** The project's public ingest key (pk_...). */
  key?: string;
  /** "platform": the platform's own UI (errors, vitals and page views only; no replay). */
  scope?: "platform";
  /** The platform's origin; "" is the page's own origin. */
  endpoint?: string;
  /** Share of sessions recorded from their start, 0..1. */
  replay?: number;
  /** Record the other sessions too, keeping only the last two checkouts until an error happens. */
  replayOnError?: boolean;
  /** Mask every text in replays, not only inputs. Default true. */
  maskText?: boolean;
}

export interface FetchOptions {
  retries?: number;
  backoffMs?: number;
  timeoutMs?: number;
}

/** How the core starts replay.js, which sets window.EcodeReplay once loaded. */
export interface ReplayOptions {
  /** The chunk route with key and session; replay.js adds seq and error. */
  url: string;
  /** Upload from the start (sampled, or the session already had an error). */
  live: boolean;
  errored: boolean;
  maskText: boolean;
  /** The next chunk number of this session, across page loads. */
  nextSeq: () => number;
}

export interface Recorder {
  /** An error happened: upload what is held and keep recording. */
  error: () => void;
}

declare global {
  interface Window {
    EcodeReplay?: { start: (o: ReplayOptions) => Recorder };
  }
}

type Props = Record<string, string | number | boolean>;

const FLUSH_MS = 5000;
const FLUSH_COUNT = 50;
// Kept before init wraps fetch: the SDK's own requests and monitoredFetch's tries are not
// "failed requests of the page".
const nativeFetch = window.fetch.bind(window);

let ingest = "";
let own = "";
let session = "";
let queue: object[] = [];
let page = "";
let recorder: Recorder | undefined;
let errored = false;

/** Reads (and with a value, first writes) one of the SDK's sessionStorage entries. */
function kept(name: string, value?: string): string | null {
  try {
    if (value !== undefined) sessionStorage.setItem("ecode-monitor-" + name, value);
    return sessionStorage.getItem("ecode-monitor-" + name);
  } catch {
    return value ?? null; // storage refused (sandboxed frame, privacy mode): this page only
  }
}

function send(type: string, fields: object): void {
  if (!ingest) return;
  queue.push({ type, t: Date.now(), session, url: location.href, ...fields });
  if (queue.length >= FLUSH_COUNT) flush();
}

/** Sends the queued events now; the SDK calls it itself every 5 s and when the page is hidden. */
export function flush(): void {
  if (!queue.length) return;
  const body = JSON.stringify(queue);
  queue = [];
  // A beacon outlives the page; it is refused above ~64 KB, then a plain fetch tries.
  if (!navigator.sendBeacon?.(ingest, body)) {
    nativeFetch(ingest, { method: "POST", body, keepalive: body.length < 60_000 }).catch(() => {});
  }
}

function fail(err: unknown, source: string, message?: string): void {
  const e = err instanceof Error ? err : undefined;
  send("error", { name: e?.name, message: e?.message || message || String(err), stack: e?.stack, source });
  if (!errored) kept("errored", "1");
  errored = true;
  recorder?.error();
}

/** Reports an error the page caught itself. */
export function captureError(err: unknown): void {
  fail(err, "manual");
}

/** Records a custom event. */
export function track(name: string, props?: Props): void {
  send("event", { name, props });
}

function failed(method: string, target: string, status: number, start: number): void {
  const url = new URL(target, location.href).href;
  if (url.startsWith(own)) return;
  send("request", { method: method.toUpperCase(), target: url, status, durationMs: Math.round(performance.now() - start) });
}

function pageview(): void {
  const here = location.origin + location.pathname;
  if (here === page) return;
  send("pageview", { referrer: page || document.referrer || undefined });
  page = here;
}

function vital(m: Metric): void {
  send("vital", { name: m.name, value: m.value, rating: m.rating, navigationType: m.navigationType, id: m.id });
}

function watchRequests(): void {
  window.fetch = (input, init) => {
    const start = performance.now();
    const method = init?.method || (input instanceof Request ? input.method : "GET");
    const target = input instanceof Request ? input.url : String(input);
    return nativeFetch(input, init).then(
      (res) => {
        if (res.status >= 400) failed(method, target, res.status, start);
        return res;
      },
      (err: unknown) => {
        if ((err as Error)?.name !== "AbortError") failed(method, target, 0, start);
        throw err;
      },
    );
  };
  const proto = XMLHttpRequest.prototype;
  const { open, send: xsend } = proto;
  const calls = new WeakMap<XMLHttpRequest, [string, string]>();
  proto.open = function (this: XMLHttpRequest, method: string, url: string | URL) {
    calls.set(this, [method, String(url)]);
    // eslint-disable-next-line prefer-rest-params
    return open.apply(this, arguments as unknown as Parameters<typeof open>);
  };
  proto.send = function (this: XMLHttpRequest, body) {
    const call = calls.get(this);
    if (call) {
      const start = performance.now();
      const done = () => failed(call[0], call[1], this.status, start);
      this.addEventListener("load", () => this.status >= 400 && done());
      this.addEventListener("error", done);
      this.addEventListener("timeout", done);
    }
    return xsend.call(this, body);
  };
}

function startReplay(key: string, base: string, o: Options): void {
  if (navigator.doNotTrack === "1") return;
  const sampled = (kept("sampled") ?? kept("sampled", Math.random() < (o.replay ?? 0) ? "1" : "0")) === "1";
  if (!sampled && !o.replayOnError) return;
  let seq = Number(kept("seq")) || 0;
  const script = document.createElement("script");
  script.src = base + "/sdk/replay.js";
  script.onload = () => {
    recorder = window.EcodeReplay?.start({
      url: `${base}/api/monitoring/replay?key=${encodeURIComponent(key)}&session=${session}`,
      live: sampled || errored,
      errored,
      maskText: o.maskText !== false,
      nextSeq: () => (kept("seq", String(seq + 1)), seq++),
    });
  };
  document.head.appendChild(script);
}

/** Starts monitoring this page; a second call does nothing. */
export function init(o: Options): void {
  if (ingest) return;
  const base = o.endpoint ?? "";
  ingest = `${base}/api/monitoring/event?` + (o.key ? "key=" + encodeURIComponent(o.key) : "scope=" + (o.scope ?? "platform"));
  own = new URL(base + "/api/monitoring/", location.href).href;
  session =
    kept("session") ??
    (kept("session", Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => (b % 36).toString(36)).join("")) as string);
  errored = kept("errored") === "1";

  addEventListener("error", (e) => fail(e.error, "error", e.message));
  addEventListener("unhandledrejection", (e) => fail(e.reason, "unhandledrejection"));
  // Bubbling listeners on window run after web-vitals' capturing ones, so the final values
  // it reports on hide go out in the same beacon.
  addEventListener("visibilitychange", () => document.visibilityState === "hidden" && flush());
  addEventListener("pagehide", flush);
  setInterval(flush, FLUSH_MS);

  pageview();
  const push = history.pushState;
  history.pushState = function (this: History, ...args: Parameters<History["pushState"]>) {
    push.apply(this, args);
    pageview();
  };
  addEventListener("popstate", pageview);
  for (const on of [onCLS, onFCP, onINP, onLCP, onTTFB]) on(vital);

  if (o.key) {
    watchRequests();
    startReplay(o.key, base, o);
  }
}

/**
 * fetch with retries: network errors, 5xx and 429 are tried again (retries more times) after
 * Retry-After when the answer has one, else a full-jitter exponential backoff. timeoutMs
 * bounds each try. A request that still fails is reported as a "request" event.
 */
export async function monitoredFetch(
  input: RequestInfo | URL,
  init?: RequestInit,
  { retries = 2, backoffMs = 300, timeoutMs }: FetchOptions = {},
): Promise<Response> {
  const req = new Request(input, init);
  const start = performance.now();
  for (let attempt = 0; ; attempt++) {
    const ctl = new AbortController();
    const cancel = () => ctl.abort(req.signal.reason);
    req.signal.addEventListener("abort", cancel);
    const timer = timeoutMs
      ? setTimeout(() => ctl.abort(new DOMException(`no answer in ${timeoutMs} ms`, "TimeoutError")), timeoutMs)
      : undefined;
    let res: Response | undefined;
    let err: unknown;
    try {
      res = await nativeFetch(req.clone(), { signal: ctl.signal });
    } catch (e) {
      err = e;
    } finally {
      clearTimeout(timer);
      req.signal.removeEventListener("abort", cancel);
    }
    if (!res && req.signal.aborted) throw err; // the caller gave up: not a failure of the request
    if (attempt >= retries || (res && res.status < 500 && res.status !== 429)) {
      if (!res || res.status >= 400) failed(req.method, req.url, res ? res.status : 0, start);
      if (res) return res;
      throw err;
    }
    void res?.body?.cancel();
    await new Promise((done) => setTimeout(done, delay(res, attempt, backoffMs)));
  }
}

function delay(res: Response | undefined, attempt: number, backoffMs: number): number {
  const after = res?.headers.get("Retry-After");
  if (after) {
    // Either delay-seconds or an HTTP date.
    const ms = /^\d+$/.test(after) ? Number(after) * 1000 : Date.parse(after) - Date.now();
    if (!Number.isNaN(ms)) return Math.max(0, ms);
  }
  return Math.random() * backoffMs * 2 ** attempt;
}
