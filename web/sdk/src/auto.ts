// monitor.js (a classic script) starts itself from its tag's data attributes, the tag the
// deploy edge writes into pages; as monitor.mjs there is no tag and the page calls init.
import { init } from "./monitor";

export { captureError, flush, init, monitoredFetch, track } from "./monitor";

const tag = document.currentScript as HTMLScriptElement | null;
const d = tag?.dataset;
if (tag && d?.key) {
  init({
    key: d.key,
    endpoint: d.endpoint ?? new URL(tag.src).origin,
    replay: Number(d.replay) || 0,
    replayOnError: d.replayOnError === "1",
    maskText: d.maskText !== "0",
  });
}
