import type { ComponentProps } from "react";
import { inputClass } from "@/components/ui/input";
import { hasMod } from "@/lib/keys";
import { cn } from "@/lib/utils";
import { SUBMIT_KEYS } from "@/workspace/useShortcuts";

/** A text box for a request to the agent; Ctrl/Cmd-Enter sends it (in the workspace too, instead of Run). */
export function PromptTextarea({ onSend, className, ...props }: ComponentProps<"textarea"> & { onSend: () => void }) {
  return (
    <textarea
      {...SUBMIT_KEYS}
      rows={3}
      spellCheck
      className={cn(inputClass, "h-auto min-h-16 resize-y py-2 text-[13px] leading-relaxed", className)}
      onKeyDown={(e) => {
        if (e.key === "Enter" && hasMod(e)) {
          e.preventDefault();
          onSend();
        }
      }}
      {...props}
    />
  );
}
