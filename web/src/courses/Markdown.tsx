import type { ReactNode } from "react";
import { cn } from "@/lib/utils";

// Instructions are a teacher's Markdown shown to students. The common subset
// (headings, paragraphs, lists, fenced code, `code`, **bold**, *italic*, links)
// becomes React elements, never HTML, so nothing in the text can run.

type Block =
  | { kind: "heading"; level: number; text: string }
  | { kind: "code"; text: string }
  | { kind: "list"; ordered: boolean; items: string[] }
  | { kind: "quote"; text: string }
  | { kind: "para"; text: string };

function blocks(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const out: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === "") {
      i++;
      continue;
    }
    if (line.startsWith("```")) {
      const code: string[] = [];
      i++;
      while (i < lines.length && !lines[i].startsWith("```")) code.push(lines[i++]);
      i++;
      out.push({ kind: "code", text: code.join("\n") });
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      out.push({ kind: "heading", level: heading[1].length, text: heading[2] });
      i++;
      continue;
    }
    const item = /^\s*([-*+]|\d+[.)])\s+/;
    if (item.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: string[] = [];
      while (i < lines.length && item.test(lines[i])) items.push(lines[i++].replace(item, ""));
      out.push({ kind: "list", ordered, items });
      continue;
    }
    if (line.startsWith(">")) {
      const quote: string[] = [];
      while (i < lines.length && lines[i].startsWith(">")) quote.push(lines[i++].replace(/^>\s?/, ""));
      out.push({ kind: "quote", text: quote.join(" ") });
      continue;
    }
    const para: string[] = [];
    while (i < lines.length && lines[i].trim() !== "" && !/^(```|#{1,6}\s|>|\s*([-*+]|\d+[.)])\s)/.test(lines[i])) para.push(lines[i++]);
    out.push({ kind: "para", text: para.join(" ") });
  }
  return out;
}

const inlinePattern = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*]+\*|_[^_]+_)|(\[[^\]]+\]\([^)\s]+\))/g;

function inline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(inlinePattern)) {
    const at = m.index;
    if (at > last) out.push(text.slice(last, at));
    const token = m[0];
    const key = `${at}`;
    if (m[1]) out.push(<code key={key} className="rounded bg-muted px-1 font-mono text-[0.9em]">{token.slice(1, -1)}</code>);
    else if (m[2]) out.push(<strong key={key}>{token.slice(2, -2)}</strong>);
    else if (m[3]) out.push(<em key={key}>{token.slice(1, -1)}</em>);
    else {
      const link = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(token);
      const href = link?.[2] ?? "";
      // Only web links: a javascript: URL in a teacher's text must not become clickable.
      if (link && /^(https?:\/\/|\/|#)/.test(href)) {
        out.push(
          <a key={key} href={href} target="_blank" rel="noreferrer noopener" className="text-link underline-offset-4 hover:underline">
            {link[1]}
          </a>,
        );
      } else out.push(token);
    }
    last = at + token.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

const headingClass = ["text-lg font-semibold", "text-base font-semibold", "text-sm font-semibold"];

/** Markdown as safe React elements. */
export function Markdown({ source, className }: { source: string; className?: string }) {
  const parsed = blocks(source);
  if (parsed.length === 0) return <p className={cn("text-[13px] text-muted-foreground", className)}>No instructions.</p>;
  return (
    <div className={cn("grid gap-3 text-sm leading-relaxed", className)} data-testid="markdown">
      {parsed.map((b, n) => {
        switch (b.kind) {
          case "heading": {
            const Tag = (["h2", "h3", "h4", "h5", "h6", "h6"] as const)[b.level - 1];
            return (
              <Tag key={n} className={headingClass[Math.min(b.level - 1, 2)]}>
                {inline(b.text)}
              </Tag>
            );
          }
          case "code":
            return (
              <pre key={n} className="overflow-x-auto rounded-md border border-border bg-muted p-3 font-mono text-[13px]">
                {b.text}
              </pre>
            );
          case "list": {
            const Tag = b.ordered ? "ol" : "ul";
            return (
              <Tag key={n} className={cn("grid gap-1 pl-5", b.ordered ? "list-decimal" : "list-disc")}>
                {b.items.map((item, k) => (
                  <li key={k}>{inline(item)}</li>
                ))}
              </Tag>
            );
          }
          case "quote":
            return (
              <blockquote key={n} className="border-l-2 border-border pl-3 text-muted-foreground">
                {inline(b.text)}
              </blockquote>
            );
          default:
            return <p key={n}>{inline(b.text)}</p>;
        }
      })}
    </div>
  );
}
