// 1 MiB objects through the S3 endpoint with the unmodified AWS SDK (env
// only), against the same bytes written to and read from the sandbox's disk.
const { S3Client, PutObjectCommand, GetObjectCommand } = require("@aws-sdk/client-s3");
const fs = require("node:fs");

const N = Number(process.env.N || 50);
const body = Buffer.alloc(1 << 20);
for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 255;

function stats(name, ms) {
  ms.sort((a, b) => a - b);
  const p = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  console.log(`${name.padEnd(28)} p50 ${p(0.5).toFixed(2)} ms  p95 ${p(0.95).toFixed(2)} ms  ${(1 / (mean / 1000)).toFixed(0)} MiB/s`);
}

async function time(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

(async () => {
  const s3 = new S3Client({});
  const put = [], get = [], write = [], read = [];
  for (let i = 0; i < N + 3; i++) {
    const key = `bench/${i % 4}.bin`;
    const tp = await time(() => s3.send(new PutObjectCommand({ Bucket: "default", Key: key, Body: body })));
    const tg = await time(async () => {
      const r = await s3.send(new GetObjectCommand({ Bucket: "default", Key: key }));
      if ((await r.Body.transformToByteArray()).length !== body.length) throw new Error("short read");
    });
    const tw = await time(() => {
      const fd = fs.openSync(`disk-${i % 4}.bin`, "w");
      fs.writeSync(fd, body);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    });
    const tr = await time(() => fs.readFileSync(`disk-${i % 4}.bin`));
    if (i >= 3) { put.push(tp); get.push(tg); write.push(tw); read.push(tr); }
  }
  console.log(`${N} rounds of 1 MiB, one client`);
  stats("S3 PutObject", put);
  stats("S3 GetObject", get);
  stats("disk write+fsync", write);
  stats("disk read", read);
})().catch((e) => { console.error(e.name, e.message); process.exit(1); });
