import { SendHorizontal } from "lucide-react";
import type { ReactNode, Ref } from "react";
import { Kbd } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Spinner } from "@/components/ui/spinner";
import { modKey } from "@/lib/keys";
import { PromptTextarea } from "./PromptTextarea";

interface PromptBoxProps {
  value: string;
  onChange: (value: string) => void;
  onSend: () => void;
  /** The request is on its way. */
  sending: boolean;
  /** Why sending isn't possible now (the agent is working), if it isn't. */
  blocked: string | null;
  placeholder: string;
  /** Why the last request failed: the server's words, or a message with what to do (out of credits). */
  error: ReactNode;
  inputRef: Ref<HTMLTextAreaElement>;
}

/** Where the person asks the agent for something (or answers its question). */
export function PromptBox({ value, onChange, onSend, sending, blocked, placeholder, error, inputRef }: PromptBoxProps) {
  const send = () => {
    if (!blocked && !sending && value.trim()) onSend();
  };
  return (
    <form
      className="flex shrink-0 flex-col gap-1.5 border-t border-border p-2"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <PromptTextarea
        ref={inputRef}
        aria-label="Message to the agent"
        placeholder={placeholder}
        value={value}
        maxLength={20_000}
        onChange={(e) => onChange(e.target.value)}
        onSend={send}
      />
      {error &&
        (typeof error === "string" ? (
          <p role="alert" className="text-xs text-destructive-text">
            {error}
          </p>
        ) : (
          <div className="text-xs">{error}</div>
        ))}
      <div className="flex items-center justify-between gap-2">
        <span className="min-w-0 truncate text-xs text-muted-foreground">
          {blocked ?? (
            <>
              <Kbd>{modKey}</Kbd> <Kbd>Enter</Kbd> to send
            </>
          )}
        </span>
        <Button type="submit" size="sm" variant="primary" disabled={!!blocked || sending || !value.trim()}>
          {sending ? <Spinner className="text-current" /> : <SendHorizontal />} Send
        </Button>
      </div>
    </form>
  );
}
