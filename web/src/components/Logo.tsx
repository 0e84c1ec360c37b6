import { Code2 } from "lucide-react";
import { Link } from "react-router";
import { cn } from "@/lib/utils";

export function Logo({ className }: { className?: string }) {
  return (
    <Link to="/" className={cn("inline-flex items-center gap-2 rounded font-semibold tracking-tight", className)}>
      <span className="grid size-6 place-items-center rounded-md bg-primary text-primary-foreground">
        <Code2 className="size-4" aria-hidden />
      </span>
      E-Code
    </Link>
  );
}
