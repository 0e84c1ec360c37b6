import { useId, type ReactNode } from "react";
import { cn } from "@/lib/utils";

interface SectionProps {
  title: ReactNode;
  /** Beside the heading: what acts on the whole part (a button, a filter). */
  action?: ReactNode;
  className?: string;
  children: ReactNode;
}

/** A headed part of a monitoring view, named by its heading for assistive technology. */
export function Section({ title, action, className, children }: SectionProps) {
  const id = useId();
  return (
    <section aria-labelledby={id} className={cn("grid gap-2", className)}>
      <div className="flex items-center justify-between gap-2">
        <h3 id={id} className="text-sm font-semibold">
          {title}
        </h3>
        {action}
      </div>
      {children}
    </section>
  );
}
