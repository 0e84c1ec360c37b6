import { CircleAlert, Check, RotateCcw, X } from "lucide-react";
import { Button } from "@/components/ui/button";
import { sizeText } from "@/database/bytes";
import { cn } from "@/lib/utils";
import { chunkSize, type UploadItem } from "./upload";

interface UploadListProps {
  items: UploadItem[];
  onRetry: (id: number) => void;
  onDismiss: (id: number) => void;
}

/** The files being uploaded: a bar each, and what to do when one fails. */
export function UploadList({ items, onRetry, onDismiss }: UploadListProps) {
  if (items.length === 0) return null;
  return (
    <ul aria-label="Uploads" className="grid max-h-40 gap-1.5 overflow-auto border-y border-border px-3 py-2">
      {items.map((it) => {
        const share = it.size > 0 ? it.sent / it.size : 1;
        return (
          <li key={it.id} className="grid gap-1" data-status={it.status}>
            <div className="flex items-center gap-2 text-xs">
              {it.status === "done" && <Check className="size-3.5 shrink-0 text-run" aria-hidden />}
              {it.status === "failed" && <CircleAlert className="size-3.5 shrink-0 text-destructive-text" aria-hidden />}
              <span className="min-w-0 flex-1 truncate font-mono">{it.key}</span>
              <span className="shrink-0 text-muted-foreground">
                {it.status === "done" ? sizeText(it.size) : `${sizeText(it.sent)} of ${sizeText(it.size)}`}
              </span>
              {it.status === "failed" && (
                <Button variant="ghost" size="icon-sm" aria-label={`Retry ${it.name}`} onClick={() => onRetry(it.id)}>
                  <RotateCcw />
                </Button>
              )}
              <Button
                variant="ghost"
                size="icon-sm"
                aria-label={it.status === "uploading" ? `Cancel ${it.name}` : `Dismiss ${it.name}`}
                onClick={() => onDismiss(it.id)}
              >
                <X />
              </Button>
            </div>
            {it.status !== "done" && (
              <div
                role="progressbar"
                aria-label={`Uploading ${it.name}`}
                aria-valuemin={0}
                aria-valuemax={it.size}
                aria-valuenow={it.sent}
                className="h-1 overflow-hidden rounded-full bg-muted"
              >
                <div
                  className={cn("h-full rounded-full transition-[width] duration-150", it.status === "failed" ? "bg-destructive" : "bg-primary")}
                  style={{ width: `${Math.max(share * 100, 1)}%` }}
                />
              </div>
            )}
            {it.error && (
              <p role="alert" className="text-xs text-destructive-text">
                {it.error}
                {it.size > chunkSize && " Retry carries on from what arrived."}
              </p>
            )}
          </li>
        );
      })}
    </ul>
  );
}
