import type { Extension } from "@codemirror/state";
import { basename, extension } from "@/lib/paths";

// Each language package is its own chunk, fetched the first time a file of
// that kind opens.
interface Language {
  label: string;
  load?: () => Promise<Extension>;
}

const js = (opts: { jsx?: boolean; typescript?: boolean }) => () =>
  import("@codemirror/lang-javascript").then((m) => m.javascript(opts));

const byExtension: Record<string, Language> = {
  js: { label: "JavaScript", load: js({}) },
  mjs: { label: "JavaScript", load: js({}) },
  cjs: { label: "JavaScript", load: js({}) },
  jsx: { label: "JavaScript JSX", load: js({ jsx: true }) },
  ts: { label: "TypeScript", load: js({ typescript: true }) },
  mts: { label: "TypeScript", load: js({ typescript: true }) },
  cts: { label: "TypeScript", load: js({ typescript: true }) },
  tsx: { label: "TypeScript JSX", load: js({ jsx: true, typescript: true }) },
  py: { label: "Python", load: () => import("@codemirror/lang-python").then((m) => m.python()) },
  go: { label: "Go", load: () => import("@codemirror/lang-go").then((m) => m.go()) },
  html: { label: "HTML", load: () => import("@codemirror/lang-html").then((m) => m.html()) },
  htm: { label: "HTML", load: () => import("@codemirror/lang-html").then((m) => m.html()) },
  css: { label: "CSS", load: () => import("@codemirror/lang-css").then((m) => m.css()) },
  json: { label: "JSON", load: () => import("@codemirror/lang-json").then((m) => m.json()) },
  md: { label: "Markdown", load: () => import("@codemirror/lang-markdown").then((m) => m.markdown()) },
  markdown: { label: "Markdown", load: () => import("@codemirror/lang-markdown").then((m) => m.markdown()) },
  toml: { label: "TOML" },
  yaml: { label: "YAML" },
  yml: { label: "YAML" },
  sh: { label: "Shell" },
  txt: { label: "Plain text" },
};

const byName: Record<string, Language> = {
  Dockerfile: { label: "Dockerfile" },
  Makefile: { label: "Makefile" },
  "go.mod": { label: "Go module" },
};

const plain: Language = { label: "Plain text" };

export function languageFor(path: string): Language {
  return byName[basename(path)] ?? byExtension[extension(path)] ?? plain;
}

const loaded = new Map<Language, Promise<Extension>>();

/** The language support for path; an empty extension for plain text. */
export function loadLanguage(path: string): Promise<Extension> {
  const lang = languageFor(path);
  if (!lang.load) return Promise.resolve([]);
  let p = loaded.get(lang);
  if (!p) {
    p = lang.load();
    loaded.set(lang, p);
  }
  return p;
}
