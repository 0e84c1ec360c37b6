import { useId } from "react";
import { Badge } from "@/components/ui/badge";
import { Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Switch } from "@/components/ui/switch";
import type { GpuOffer, GpuWant } from "@/lib/api";

interface GpuChoiceProps {
  kinds: GpuOffer;
  /** The want as chosen so far: "" for none. */
  value: GpuWant;
  onChange: (want: GpuWant) => void;
  disabled?: boolean;
  /** The server's refusal of the choice, shown under it. */
  error?: string | null;
  /** What a GPU does here, under the switch. */
  hint: string;
}

/**
 * A GPU switch and, when on, which kind. Where none may be asked for it says why instead; the switch still
 * shows while a GPU is chosen anyway (a plan that lapsed), so it can be turned off and the rest saved.
 */
export function GpuChoice({ kinds, value, onChange, disabled, error, hint }: GpuChoiceProps) {
  const id = useId();
  const offered = kinds.kinds;
  const on = value !== "";
  const badge = kinds.simulated && <Badge className="border-warning/50 text-warning">simulated</Badge>;
  if (offered.length === 0 && !on) {
    return (
      <div className="grid gap-0.5" data-testid="gpu-choice">
        <span className="flex items-center gap-2 text-[13px] font-medium">GPU {badge}</span>
        <p className="text-xs text-muted-foreground">{kinds.reason ?? "This server offers no GPU."}</p>
      </div>
    );
  }
  const describedBy = error ? `${id}-error` : `${id}-hint`;
  return (
    <div className="grid gap-2" data-testid="gpu-choice">
      <div className="flex items-start gap-3">
        <Switch
          id={`${id}-switch`}
          className="mt-0.5"
          checked={on}
          disabled={disabled}
          aria-describedby={describedBy}
          onCheckedChange={(checked) => onChange(checked ? (offered[0]?.want ?? "") : "")}
        />
        <div className="grid gap-0.5">
          <Label htmlFor={`${id}-switch`} className="flex items-center gap-2">
            GPU {badge}
          </Label>
          <p id={`${id}-hint`} className="text-xs text-muted-foreground">
            {offered.length === 0 ? kinds.reason : hint}
          </p>
        </div>
      </div>
      {on && (
        <div className="grid gap-1 pl-12">
          <Label htmlFor={`${id}-kind`}>GPU kind</Label>
          <Select
            id={`${id}-kind`}
            className="h-8"
            value={value}
            disabled={disabled}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy}
            onChange={(e) => onChange(e.target.value)}
          >
            {offered.map((k) => (
              <option key={k.want} value={k.want}>
                {k.label}
              </option>
            ))}
            {!offered.some((k) => k.want === value) && <option value={value}>{value} (not offered now)</option>}
          </Select>
        </div>
      )}
      {error && (
        <p id={`${id}-error`} role="alert" className="text-xs text-destructive-text">
          {error}
        </p>
      )}
    </div>
  );
}
