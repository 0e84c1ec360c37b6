import { Check, Copy } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { Button } from "./button";

/** Copies text to the clipboard, says so, and falls back to asking the person to copy by hand. */
export function CopyButton({ text, what }: { text: string; what: string }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      toast.success(`${what} copied`);
    } catch {
      toast.error("Couldn't copy automatically", { description: `Select the ${what.toLowerCase()} and copy it by hand.` });
    }
  }
  return (
    <Button variant="secondary" size="sm" onClick={() => void copy()} aria-label={`Copy ${what.toLowerCase()}`}>
      {copied ? <Check /> : <Copy />}
      {copied ? "Copied" : "Copy"}
    </Button>
  );
}
