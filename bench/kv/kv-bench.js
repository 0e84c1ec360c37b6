// Run in a project's sandbox by bench/kv.sh: set+get round trips on
// REPLIT_DB_URL, one client (p50, p99), then ops/s with 32 clients.
const url = process.env.REPLIT_DB_URL;
const set = (k, v) =>
  fetch(url, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `${encodeURIComponent(k)}=${encodeURIComponent(v)}` });
const get = (k) => fetch(`${url}/${encodeURIComponent(k)}`).then((r) => r.text());

(async () => {
  const times = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    await set(`key${i % 100}`, JSON.stringify({ i }));
    await get(`key${i % 100}`);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.floor(q * (times.length - 1))].toFixed(3);
  console.log(`set+get round trip, one client: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);

  let ops = 0;
  const until = performance.now() + 5000;
  await Promise.all(
    Array.from({ length: 32 }, async (_, c) => {
      for (let i = 0; performance.now() < until; i++) {
        if (i % 2) await get(`c${c}`);
        else await set(`c${c}`, String(i));
        ops++;
      }
    }),
  );
  console.log(`32 clients: ${Math.round(ops / 5)} ops/s (half sets, half gets)`);
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
