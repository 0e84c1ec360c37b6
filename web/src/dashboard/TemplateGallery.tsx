import { Check } from "lucide-react";
import { RadioGroup } from "radix-ui";
import { useId, useRef } from "react";
import { Badge } from "@/components/ui/badge";
import type { Template } from "@/lib/api";
import { cn } from "@/lib/utils";
import { languageAliases, LanguageIcon } from "./LanguageIcon";

/** The templates whose name, description, tags or language contain every word of query. */
export function filterTemplates(templates: Template[], query: string): Template[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return templates;
  return templates.filter((t) => {
    const haystack = [t.name, t.description, t.id, languageAliases[t.language] ?? t.language, ...(t.tags ?? [])]
      .join(" ")
      .toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

/**
 * Templates as a grid of cards with radio-group semantics: Tab enters the group at the
 * selected card, the arrow keys move between cards and choose them.
 */
export function TemplateGallery({
  templates,
  value,
  onValueChange,
  className,
}: {
  templates: Template[];
  value: string;
  onValueChange: (id: string) => void;
  className?: string;
}) {
  const id = useId();
  // Radix checks a radio on arrow-key focus only while the key is still down, and it moves the
  // focus a tick after keydown, so a quick press (or an automated one) moved focus without
  // choosing. Remember the arrow until the focus lands and choose then.
  const arrowed = useRef(false);
  return (
    <RadioGroup.Root
      aria-label="Template"
      value={value}
      onValueChange={onValueChange}
      onKeyDown={(e) => {
        arrowed.current = e.key.startsWith("Arrow");
      }}
      loop
      className={cn("grid gap-2 sm:grid-cols-2", className)}
    >
      {templates.map((t) => {
        const nameId = `${id}-${t.id}-name`;
        const descId = `${id}-${t.id}-desc`;
        const tagsId = `${id}-${t.id}-tags`;
        const tags = t.tags ?? [];
        return (
          <RadioGroup.Item
            key={t.id}
            value={t.id}
            data-testid={`template-${t.id}`}
            onFocus={() => {
              if (arrowed.current) onValueChange(t.id);
              arrowed.current = false;
            }}
            aria-labelledby={nameId}
            aria-describedby={tags.length ? `${descId} ${tagsId}` : descId}
            className={cn(
              "group relative flex items-start gap-3 rounded-lg border border-border bg-background p-3 text-left transition-colors duration-100",
              "hover:border-input hover:bg-muted/60 focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-ring",
              "data-[state=checked]:border-primary data-[state=checked]:bg-accent data-[state=checked]:hover:bg-accent",
            )}
          >
            <LanguageIcon language={t.language} />
            <span className="grid min-w-0 flex-1 gap-1 pr-4">
              <span id={nameId} className="text-[13px] leading-5 font-medium">
                {t.name}
              </span>
              <span id={descId} className="line-clamp-2 text-xs text-muted-foreground">
                {t.description}
              </span>
              {tags.length > 0 && (
                <span id={tagsId} className="mt-0.5 flex flex-wrap gap-1" data-testid="template-tags">
                  {tags.map((tag) => (
                    <Badge key={tag} className="px-1.5 py-0 leading-4 font-normal">
                      {tag}
                    </Badge>
                  ))}
                </span>
              )}
            </span>
            <span
              aria-hidden="true"
              className="absolute top-2.5 right-2.5 flex size-4 items-center justify-center rounded-full border border-input group-data-[state=checked]:border-primary group-data-[state=checked]:bg-primary"
            >
              <RadioGroup.Indicator>
                <Check className="size-3 text-primary-foreground" strokeWidth={3} />
              </RadioGroup.Indicator>
            </span>
          </RadioGroup.Item>
        );
      })}
    </RadioGroup.Root>
  );
}
