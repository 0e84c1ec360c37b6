const units = ["B", "KB", "MB", "GB", "TB"];

/** "8.2 MB", "1 GB": a size in the largest unit under it, one decimal where it says something. */
export function sizeText(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 100 || Number.isInteger(v) ? 0 : 1;
  return `${v.toFixed(digits)} ${units[i]}`;
}
