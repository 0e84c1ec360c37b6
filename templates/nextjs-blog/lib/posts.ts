import fs from "node:fs";
import path from "node:path";
import matter from "gray-matter";
import { marked } from "marked";

// Posts are Markdown files in posts/, with front matter at the top:
//
//   ---
//   title: My post
//   date: 2025-01-31
//   summary: One line for the index page.
//   tags: [news]
//   ---
const postsDir = path.join(process.cwd(), "posts");

export type PostMeta = {
  slug: string;
  title: string;
  date: string;
  summary: string;
  tags: string[];
};

export type Post = PostMeta & { html: string; readingMinutes: number };

function slugs(): string[] {
  return fs
    .readdirSync(postsDir)
    .filter((f) => f.endsWith(".md"))
    .map((f) => f.replace(/\.md$/, ""));
}

function read(slug: string): { meta: PostMeta; content: string } | undefined {
  // Only names from the posts folder: a slug never walks out of it.
  if (!slugs().includes(slug)) return undefined;
  const { data, content } = matter(fs.readFileSync(path.join(postsDir, `${slug}.md`), "utf8"));
  const date = data.date instanceof Date ? data.date.toISOString().slice(0, 10) : String(data.date ?? "");
  return {
    meta: {
      slug,
      title: String(data.title ?? slug),
      date,
      summary: String(data.summary ?? ""),
      tags: Array.isArray(data.tags) ? data.tags.map(String) : [],
    },
    content,
  };
}

// getAllPosts lists every post, newest first.
export function getAllPosts(): PostMeta[] {
  return slugs()
    .map((s) => read(s)!.meta)
    .sort((a, b) => b.date.localeCompare(a.date));
}

export function getPost(slug: string): Post | undefined {
  const post = read(slug);
  if (!post) return undefined;
  const words = post.content.split(/\s+/).filter(Boolean).length;
  return {
    ...post.meta,
    html: marked.parse(post.content, { async: false }),
    readingMinutes: Math.max(1, Math.round(words / 200)),
  };
}

export function formatDate(date: string): string {
  const d = new Date(date);
  if (Number.isNaN(d.getTime())) return date;
  return d.toLocaleDateString("en-US", { year: "numeric", month: "long", day: "numeric", timeZone: "UTC" });
}
