import type { Cell, QueryColumn } from "./api";

/** One field as RFC 4180 writes it; NULL is an empty field, the empty string a quoted one. */
function field(v: Cell): string {
  if (v === null) return "";
  if (v === "" || /[",\r\n]/.test(v)) return `"${v.replaceAll('"', '""')}"`;
  return v;
}

/** The rows as CSV with a header line of column names. */
export function toCsv(columns: readonly QueryColumn[], rows: readonly Cell[][]): string {
  const lines = [columns.map((c) => field(c.name)).join(",")];
  for (const row of rows) lines.push(row.map(field).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** Hands the browser a file to save. */
export function download(name: string, content: Blob) {
  const url = URL.createObjectURL(content);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  // Revoked once the download has surely started reading it.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
