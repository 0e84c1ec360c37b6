import { TriangleAlert } from "lucide-react";
import { errorMessage } from "@/lib/api";
import { Button } from "./ui/button";
import { EmptyState } from "./ui/empty-state";

/** A pane or page that failed to load: what went wrong and a way to retry. */
export function ErrorState({ error, onRetry, title = "Couldn't load this" }: { error: unknown; onRetry?: () => void; title?: string }) {
  return (
    <EmptyState
      icon={TriangleAlert}
      title={title}
      action={
        onRetry && (
          <Button variant="secondary" onClick={onRetry}>
            Try again
          </Button>
        )
      }
    >
      <span role="alert">{errorMessage(error)}</span>
    </EmptyState>
  );
}
