import { cn } from "@/lib/utils";

interface MeterProps {
  label: string;
  value: number;
  max: number;
  /** What the meter says in words, for screen readers and beside it. */
  text: string;
}

/** How full something is against its limit: amber past 80 %, red when full. */
export function Meter({ label, value, max, text }: MeterProps) {
  const share = max > 0 ? Math.min(value / max, 1) : 0;
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={Math.min(value, max)}
      aria-valuetext={text}
      className="h-1.5 overflow-hidden rounded-full bg-muted"
    >
      <div
        className={cn("h-full rounded-full", share >= 1 ? "bg-destructive" : share > 0.8 ? "bg-warning" : "bg-primary")}
        style={{ width: `${Math.max(share * 100, 1)}%` }}
      />
    </div>
  );
}
