// replay.js: session replay with rrweb, loaded by the core only for sessions it records; as
// an IIFE named EcodeReplay it leaves window.EcodeReplay.start for the core to call.
// Chunks are gzip JSON arrays of rrweb events, numbered per session (seq) so the server can
// order them and a repeat replaces its first upload.
import { record } from "@rrweb/record";
import type { ReplayOptions } from "./monitor";

const FLUSH_MS = 10_000;
const FLUSH_BYTES = 256 * 1024;
const CHECKOUT_MS = 5 * 60_000;
const META = 4; // rrweb's EventType.Meta, which opens every full snapshot

export function start(o: ReplayOptions) {
  let { live, errored } = o;
  // Serialised events; until live, one list per checkout, the last two kept.
  let held: string[][] = [[]];
  let bytes = 0;

  const upload = (unloading: boolean) => {
    const events = held.flat();
    held = [[]];
    bytes = 0;
    if (!events.length) return;
    const json = "[" + events.join(",") + "]";
    const url = `${o.url}&seq=${o.nextSeq()}${errored ? "&error=1" : ""}`;
    if (unloading) {
      // Compression is asynchronous and a leaving page may not live to see it finish.
      const body = storedGzip(json);
      if (!navigator.sendBeacon(url, body)) fetch(url, { method: "POST", body, keepalive: true }).catch(() => {});
    } else {
      gzip(json)
        .then((body) => fetch(url, { method: "POST", body }))
        .catch(() => {});
    }
  };

  record({
    emit(e, checkout) {
      if (checkout && !live && e.type === META) {
        held.push([]);
        if (held.length > 2) held.shift();
      }
      const s = JSON.stringify(e);
      held[held.length - 1].push(s);
      bytes += s.length;
      if (live && bytes >= FLUSH_BYTES) upload(false);
    },
    checkoutEveryNms: CHECKOUT_MS,
    maskAllInputs: true,
    maskTextSelector: o.maskText ? "*" : undefined,
    blockSelector: "[data-private]",
  });
  setInterval(() => live && upload(false), FLUSH_MS);
  const leave = () => live && upload(true);
  addEventListener("visibilitychange", () => document.visibilityState === "hidden" && leave());
  addEventListener("pagehide", leave);

  return {
    error() {
      live = errored = true;
      upload(false);
    },
  };
}

function gzip(s: string): Promise<Blob> {
  if (typeof CompressionStream !== "function") return Promise.resolve(storedGzip(s));
  return new Response(new Blob([s]).stream().pipeThrough(new CompressionStream("gzip"))).blob();
}

/** A gzip member of uncompressed ("stored") deflate blocks: valid gzip, made synchronously. */
function storedGzip(s: string): Blob {
  const data = new TextEncoder().encode(s);
  const parts: BlobPart[] = [new Uint8Array([31, 139, 8, 0, 0, 0, 0, 0, 0, 255])];
  for (let i = 0; i === 0 || i < data.length; i += 65535) {
    const n = Math.min(65535, data.length - i);
    const last = i + n >= data.length ? 1 : 0;
    parts.push(new Uint8Array([last, n & 255, n >> 8, ~n & 255, (~n >> 8) & 255]), data.subarray(i, i + n));
  }
  let crc = -1;
  for (const b of data) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  const tail = new DataView(new ArrayBuffer(8));
  tail.setInt32(0, ~crc, true);
  tail.setUint32(4, data.length, true);
  parts.push(tail);
  return new Blob(parts);
}
