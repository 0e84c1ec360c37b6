import { useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { ApiError, errorMessage } from "@/lib/api";
import { storageApi, storageKeys, type Place, type StoredObject } from "./api";

/** Files up to this size go in one request; larger ones through a resumable upload in chunks of it. */
export const chunkSize = 8 << 20;

/** Failures in a row a resumable upload rides out (resuming from what the server holds) before it gives up. */
const maxRetries = 5;

/** What one upload needs; uploadId, when set, is the resumable upload to carry on. */
export interface UploadJob {
  place: Place;
  bucket: string;
  key: string;
  file: File;
  uploadId?: string;
}

function resumable(err: unknown): boolean {
  return err instanceof ApiError && (err.code === "upload_offset_mismatch" || err.status === 0 || err.status >= 500);
}

function pause(attempt: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = window.setTimeout(resolve, Math.min(500 * 2 ** attempt, 8000));
    signal.addEventListener("abort", () => {
      window.clearTimeout(t);
      reject(new DOMException("The upload was cancelled.", "AbortError"));
    });
  });
}

/** Where the server stands with an upload: the received its 409 tells, or what it answers when asked. */
async function receivedAfter(err: unknown, place: Place, id: string): Promise<number> {
  const details = err instanceof ApiError ? err.body?.details : undefined;
  const told = typeof details === "object" && details !== null && "received" in details ? details.received : undefined;
  if (typeof told === "number") return told;
  return (await storageApi.uploadStatus(place, id)).received;
}

/**
 * Uploads job.file to job.key: in one PUT when it is small, else in chunks through the resumable
 * uploads API, resuming from the bytes the server holds after a failure or a 409. onStarted is told
 * the resumable upload's id, to carry on with later (a Retry) if this attempt gives up.
 */
export async function uploadFile(
  job: UploadJob,
  onProgress: (sent: number) => void,
  onStarted: (uploadId: string) => void,
  signal: AbortSignal,
): Promise<StoredObject> {
  const { place, bucket, key, file } = job;
  if (file.size <= chunkSize && !job.uploadId) return storageApi.put(place, bucket, key, file, onProgress, signal);
  let id = job.uploadId;
  let received = 0;
  if (id) {
    try {
      received = (await storageApi.uploadStatus(place, id)).received;
    } catch (err) {
      if (!(err instanceof ApiError) || err.code !== "upload_not_found") throw err;
      id = undefined; // expired: start again
    }
  }
  if (!id) {
    id = (await storageApi.startUpload(place, bucket, key, file.type)).id;
    onStarted(id);
  }
  let failures = 0;
  while (received < file.size) {
    onProgress(received);
    const from = received;
    const chunk = file.slice(from, Math.min(from + chunkSize, file.size));
    try {
      received = (await storageApi.writeChunk(place, id, from, chunk, (n) => onProgress(from + n), signal)).received;
      failures = 0;
    } catch (err) {
      if (signal.aborted || !resumable(err) || ++failures > maxRetries) throw err;
      if (!(err instanceof ApiError && err.code === "upload_offset_mismatch")) await pause(failures, signal);
      received = await receivedAfter(err, place, id);
    }
  }
  onProgress(file.size);
  return storageApi.finishUpload(place, id);
}

export type UploadStatus = "uploading" | "done" | "failed";

/** One file being uploaded, as the list shows it. */
export interface UploadItem {
  id: number;
  key: string;
  name: string;
  size: number;
  sent: number;
  status: UploadStatus;
  error?: string;
}

interface Running {
  job: UploadJob;
  controller: AbortController;
}

/** The uploads of a pane: started from a file input or a drop, with progress, retry (resuming), cancel and dismiss. */
export function useUploads(place: Place) {
  const qc = useQueryClient();
  const [items, setItems] = useState<UploadItem[]>([]);
  const running = useRef(new Map<number, Running>());
  const nextId = useRef(1);

  const patch = (id: number, change: Partial<UploadItem>) =>
    setItems((all) => all.map((it) => (it.id === id ? { ...it, ...change } : it)));

  const go = (id: number, job: UploadJob) => {
    const controller = new AbortController();
    running.current.set(id, { job, controller });
    patch(id, { status: "uploading", error: undefined });
    uploadFile(
      job,
      (sent) => patch(id, { sent }),
      (uploadId) => {
        job.uploadId = uploadId;
      },
      controller.signal,
    ).then(
      () => {
        running.current.delete(id);
        patch(id, { status: "done", sent: job.file.size });
        void qc.invalidateQueries({ queryKey: storageKeys.env(place) });
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        patch(id, { status: "failed", error: errorMessage(err) });
      },
    );
  };

  return {
    items,
    /** Uploads files into bucket under prefix (a folder ending in /, or ""). */
    add: (bucket: string, prefix: string, files: Iterable<File>) => {
      const added: UploadItem[] = [];
      for (const file of files) {
        const id = nextId.current++;
        const job: UploadJob = { place, bucket, key: prefix + file.name, file };
        added.push({ id, key: job.key, name: file.name, size: file.size, sent: 0, status: "uploading" });
        queueMicrotask(() => go(id, job));
      }
      setItems((all) => [...added, ...all]);
    },
    retry: (id: number) => {
      const r = running.current.get(id);
      if (r) go(id, r.job);
    },
    /** Stops an upload (or forgets a finished one); what a resumable upload received is dropped on the server. */
    dismiss: (id: number) => {
      const r = running.current.get(id);
      running.current.delete(id);
      setItems((all) => all.filter((it) => it.id !== id));
      if (!r) return;
      r.controller.abort();
      if (r.job.uploadId) void storageApi.abortUpload(place, r.job.uploadId).catch(() => undefined);
    },
  };
}
