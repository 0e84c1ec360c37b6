import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { ChevronRight, Download, File, Folder, FolderPlus, Trash2, Upload } from "lucide-react";
import { useRef, useState, type DragEvent } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { LoadMore } from "@/components/ui/load-more";
import { PromptDialog } from "@/components/ui/prompt-dialog";
import { Loading } from "@/components/ui/spinner";
import { sizeText } from "@/database/bytes";
import { formatDate, timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";
import { storageApi, storageKeys, type Place } from "./api";
import { UploadList } from "./UploadList";
import { useUploads } from "./upload";

/** What is being deleted: one object (by key) or a folder (by prefix). */
type Doomed = { kind: "object"; key: string } | { kind: "folder"; prefix: string };

/** A bucket's folders and files under the folder shown, with uploads (button or drop), downloads and deletes. */
export function BucketBrowser({ place, bucket }: { place: Place; bucket: string }) {
  const qc = useQueryClient();
  const [prefix, setPrefix] = useState("");
  const [dragging, setDragging] = useState(false);
  const [naming, setNaming] = useState(false);
  const [doomed, setDoomed] = useState<Doomed | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const uploads = useUploads(place);
  const list = useInfiniteQuery({
    queryKey: storageKeys.objects(place, bucket, prefix),
    queryFn: ({ pageParam }) => storageApi.objects(place, bucket, prefix, pageParam),
    initialPageParam: "",
    getNextPageParam: (last) => last.next || undefined,
  });
  const folders = list.data?.pages.flatMap((p) => p.prefixes) ?? [];
  const objects = list.data?.pages.flatMap((p) => p.objects) ?? [];
  const drop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (e.dataTransfer.files.length > 0) uploads.add(bucket, prefix, e.dataTransfer.files);
  };
  return (
    <div
      className={cn("relative flex min-h-0 flex-1 flex-col", dragging && "outline-2 -outline-offset-4 outline-dashed outline-ring")}
      data-testid="storage-browser"
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes("Files")) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
      }}
      onDrop={drop}
    >
      <div className="flex flex-wrap items-center gap-2 px-3 py-2">
        <Breadcrumbs bucket={bucket} prefix={prefix} onOpen={setPrefix} />
        <span className="ml-auto flex gap-1">
          <Button size="sm" variant="ghost" onClick={() => setNaming(true)}>
            <FolderPlus /> New folder
          </Button>
          <Button size="sm" onClick={() => input.current?.click()}>
            <Upload /> Upload
          </Button>
        </span>
        <input
          ref={input}
          type="file"
          multiple
          hidden
          aria-label="Files to upload"
          onChange={(e) => {
            if (e.target.files) uploads.add(bucket, prefix, e.target.files);
            e.target.value = "";
          }}
        />
      </div>
      <UploadList items={uploads.items} onRetry={uploads.retry} onDismiss={uploads.dismiss} />
      <div className="min-h-0 flex-1 overflow-auto">
        {list.isPending && <Loading label="Loading files" />}
        {list.isError && <ErrorState error={list.error} onRetry={() => void list.refetch()} />}
        {list.isSuccess && folders.length === 0 && objects.length === 0 && (
          <EmptyState icon={Upload} title={prefix ? "This folder is empty" : "No files yet"}>
            Drop files here or use Upload. Your code reaches this bucket through{" "}
            <code className="font-mono">AWS_ENDPOINT_URL</code> (S3 clients) or{" "}
            <code className="font-mono">@replit/object-storage</code>.
          </EmptyState>
        )}
        {(folders.length > 0 || objects.length > 0) && (
          <table className="w-full table-fixed" aria-label="Files">
            <colgroup>
              <col />
              <col className="w-16" />
              <col className="w-18" />
            </colgroup>
            <thead className="sr-only">
              <tr>
                <th>Name</th>
                <th>Size</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-border">
              {folders.map((f) => (
                <tr key={f} className="hover:bg-muted">
                  <td className="px-3 py-1.5" colSpan={2}>
                    <button
                      type="button"
                      onClick={() => setPrefix(f)}
                      className="flex min-w-0 items-center gap-2 rounded text-left hover:underline focus-visible:outline-2 focus-visible:outline-ring"
                    >
                      <Folder className="size-4 shrink-0 text-muted-foreground" aria-hidden />
                      <span className="truncate font-mono">{f.slice(prefix.length)}</span>
                    </button>
                  </td>
                  <td className="px-2 text-right">
                    <Button
                      variant="ghost"
                      size="icon-sm"
                      aria-label={`Delete folder ${f.slice(prefix.length)}`}
                      onClick={() => setDoomed({ kind: "folder", prefix: f })}
                    >
                      <Trash2 />
                    </Button>
                  </td>
                </tr>
              ))}
              {objects.map((o) => {
                const name = o.key.slice(prefix.length);
                return (
                  <tr key={o.key} className="hover:bg-muted">
                    <td className="px-3 py-1.5">
                      <div className="flex min-w-0 items-center gap-2">
                        <File className="size-4 shrink-0 text-muted-foreground" aria-hidden />
                        <span className="min-w-0">
                          <span className="block truncate font-mono">{name}</span>
                          <span className="block truncate text-xs text-muted-foreground" title={formatDate(Date.parse(o.updated))}>
                            {o.contentType || "unknown type"} · {timeAgo(Date.parse(o.updated))}
                          </span>
                        </span>
                      </div>
                    </td>
                    <td className="text-right text-xs text-muted-foreground">{sizeText(o.size)}</td>
                    <td className="px-2 text-right whitespace-nowrap">
                      <Button variant="ghost" size="icon-sm" asChild>
                        <a href={storageApi.downloadUrl(place, bucket, o.key)} download={name} aria-label={`Download ${name}`}>
                          <Download />
                        </a>
                      </Button>
                      <Button
                        variant="ghost"
                        size="icon-sm"
                        aria-label={`Delete ${name}`}
                        onClick={() => setDoomed({ kind: "object", key: o.key })}
                      >
                        <Trash2 />
                      </Button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <LoadMore pages={list} />
      </div>
      {dragging && (
        <p className="pointer-events-none absolute inset-x-0 bottom-3 text-center text-[13px] font-medium">
          Drop to upload to {bucket}/{prefix}
        </p>
      )}
      <PromptDialog
        open={naming}
        onOpenChange={setNaming}
        title="New folder"
        description="A folder is a prefix of its files' names: it stays once something is uploaded into it."
        label="Folder name"
        placeholder="images"
        submitLabel="Open folder"
        validate={(name) => (name.includes("/") ? "One folder at a time: no “/”." : null)}
        onSubmit={(name) => setPrefix(`${prefix}${name}/`)}
      />
      <ConfirmDialog
        open={doomed !== null}
        onOpenChange={(open) => !open && setDoomed(null)}
        title={doomed?.kind === "folder" ? `Delete folder ${doomed.prefix}?` : `Delete ${doomed?.key ?? ""}?`}
        description={
          doomed?.kind === "folder"
            ? "Every file in it and in its subfolders is deleted."
            : "The file is deleted."
        }
        confirmLabel="Delete"
        destructive
        onConfirm={async () => {
          if (!doomed) return;
          if (doomed.kind === "folder") {
            const n = await storageApi.deleteFolder(place, bucket, doomed.prefix);
            toast.success(`Deleted ${doomed.prefix}`, { description: `${n} ${n === 1 ? "file" : "files"}` });
          } else {
            await storageApi.deleteObject(place, bucket, doomed.key);
            toast.success(`Deleted ${doomed.key}`);
          }
          await qc.invalidateQueries({ queryKey: storageKeys.env(place) });
        }}
      />
    </div>
  );
}

/** The bucket and each folder down to the one shown; each opens its folder. */
function Breadcrumbs({ bucket, prefix, onOpen }: { bucket: string; prefix: string; onOpen: (prefix: string) => void }) {
  const crumbs = [{ label: bucket, prefix: "" }];
  for (let end = prefix.indexOf("/"), start = 0; end >= 0; start = end + 1, end = prefix.indexOf("/", start)) {
    crumbs.push({ label: prefix.slice(start, end) || "(empty)", prefix: prefix.slice(0, end + 1) });
  }
  return (
    <nav aria-label="Folder" className="min-w-0 flex-1">
      <ol className="flex min-w-0 flex-wrap items-center gap-0.5 font-mono">
        {crumbs.map((c, i) => (
          <li key={c.prefix} className="flex min-w-0 items-center gap-0.5">
            {i > 0 && <ChevronRight className="size-3.5 shrink-0 text-muted-foreground" aria-hidden />}
            {i === crumbs.length - 1 ? (
              <span aria-current="page" className="truncate font-medium">
                {c.label}
              </span>
            ) : (
              <button type="button" onClick={() => onOpen(c.prefix)} className="truncate rounded text-link hover:underline">
                {c.label}
              </button>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}
