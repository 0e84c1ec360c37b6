import { Braces, FileText } from "lucide-react";
import type { ReactNode } from "react";
import { cn } from "@/lib/utils";

// Small, recognisable marks for a template's language, drawn inline (no image
// downloads). Decorative: the template's name says what it is.

const markText = {
  fontFamily: "ui-sans-serif, system-ui, sans-serif",
  fontWeight: 700,
} as const;

function Mark({ className, children }: { className?: string; children: ReactNode }) {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" className={cn("size-8 shrink-0", className)}>
      {children}
    </svg>
  );
}

function JavaScriptMark({ className }: { className?: string }) {
  return (
    <Mark className={className}>
      <rect width="24" height="24" rx="3" fill="#F7DF1E" />
      <text x="21" y="20.5" textAnchor="end" fontSize="10.5" fill="#000" style={markText}>
        JS
      </text>
    </Mark>
  );
}

function TypeScriptMark({ className }: { className?: string }) {
  return (
    <Mark className={className}>
      <rect width="24" height="24" rx="3" fill="#3178C6" />
      <text x="21" y="20.5" textAnchor="end" fontSize="10.5" fill="#fff" style={markText}>
        TS
      </text>
    </Mark>
  );
}

function PythonMark({ className }: { className?: string }) {
  return (
    <Mark className={className}>
      {/* Two interlocking snakes: blue above, yellow below. */}
      <g fill="#3776AB">
        <rect x="6.5" y="1.5" width="10" height="9" rx="2.5" />
        <rect x="1.5" y="6.5" width="10.5" height="8.5" rx="2.5" />
      </g>
      <g fill="#FFD43B">
        <rect x="7.5" y="13.5" width="10" height="9" rx="2.5" />
        <rect x="12" y="9" width="10.5" height="8.5" rx="2.5" />
      </g>
      <circle cx="9.2" cy="4.2" r="1.1" fill="#fff" />
      <circle cx="14.8" cy="19.8" r="1.1" fill="#fff" />
    </Mark>
  );
}

function GoMark({ className }: { className?: string }) {
  return (
    <Mark className={className}>
      <rect width="24" height="24" rx="3" fill="#00ADD8" />
      <text
        x="12"
        y="16"
        textAnchor="middle"
        fontSize="11"
        fontStyle="italic"
        fill="#fff"
        style={{ ...markText, fontWeight: 800 }}
      >
        GO
      </text>
    </Mark>
  );
}

function HtmlMark({ className }: { className?: string }) {
  return (
    <Mark className={className}>
      <path d="M3 1.5h18l-1.65 18.6L12 22.5l-7.35-2.4z" fill="#E34F26" />
      <path d="M12 3v17.9l5.9-1.9L19.3 3z" fill="#EF652A" />
      <text x="12" y="16.5" textAnchor="middle" fontSize="12" fill="#fff" style={markText}>
        5
      </text>
    </Mark>
  );
}

function Tile({ className, children }: { className?: string; children: ReactNode }) {
  return (
    <span
      aria-hidden="true"
      className={cn(
        "inline-flex size-8 shrink-0 items-center justify-center rounded-[3px] bg-muted text-muted-foreground [&_svg]:size-4.5",
        className,
      )}
    >
      {children}
    </span>
  );
}

/** The mark for a template's language (its `language` field from GET /api/templates). */
export function LanguageIcon({ language, className }: { language: string; className?: string }) {
  switch (language.toLowerCase()) {
    case "javascript":
    case "js":
      return <JavaScriptMark className={className} />;
    case "typescript":
    case "ts":
      return <TypeScriptMark className={className} />;
    case "python":
      return <PythonMark className={className} />;
    case "go":
      return <GoMark className={className} />;
    case "html":
      return <HtmlMark className={className} />;
    case "text":
      return (
        <Tile className={className}>
          <FileText />
        </Tile>
      );
    default:
      return (
        <Tile className={className}>
          <Braces />
        </Tile>
      );
  }
}

/** Names people search by, beyond the language id itself. */
export const languageAliases: Record<string, string> = {
  javascript: "javascript js node",
  typescript: "typescript ts",
  python: "python py",
  go: "go golang",
  html: "html css web",
  text: "text empty blank",
};
