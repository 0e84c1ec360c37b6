// The project object storage's management routes, beside the pane. Uploads go through
// XMLHttpRequest: fetch can't report how much of a request body has been sent.

import { ApiError, request } from "@/lib/api";
import type { components, paths } from "@/lib/schema.gen";

type Schemas = components["schemas"];

/** dev: the workspace's objects; prod: the deployments'. */
export type StorageEnv = "dev" | "prod";
export type Bucket = Schemas["StorageBucket"];
export type StoredObject = Schemas["StorageObject"];
/** Bytes and objects of the environment against its quota. */
export type StorageUsage = Schemas["StorageUsage"];
export type ObjectPage = paths["/api/projects/{id}/storage/{env}/buckets/{bucket}/objects"]["get"]["responses"]["200"]["content"]["application/json"];
type UploadState = paths["/api/projects/{id}/storage/{env}/uploads/{upload}"]["get"]["responses"]["200"]["content"]["application/json"]["upload"];

/** Where a pane's calls go: a project's environment. */
export interface Place {
  projectId: string;
  env: StorageEnv;
}

const envPath = ({ projectId, env }: Place) => `/api/projects/${encodeURIComponent(projectId)}/storage/${env}`;
const bucketPath = (p: Place, bucket: string) => `${envPath(p)}/buckets/${encodeURIComponent(bucket)}`;
const objectPath = (p: Place, bucket: string, key: string) => `${bucketPath(p, bucket)}/object?${new URLSearchParams({ key })}`;
const uploadPath = (p: Place, id: string) => `${envPath(p)}/uploads/${encodeURIComponent(id)}`;

/** Sends body with XMLHttpRequest, telling onProgress the bytes sent so far; refusals throw ApiError as request() does. */
function send<T>(method: string, url: string, body: Blob, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Content-Type", body.type || "application/octet-stream");
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onerror = () => reject(new ApiError(0, "network_error", "The upload was cut off. Check your connection and try again."));
    xhr.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    xhr.onload = () => {
      let data: unknown;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : undefined;
      } catch {
        data = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(data as T);
        return;
      }
      const e = typeof data === "object" && data !== null && "error" in data ? (data as { error: Record<string, unknown> }).error : null;
      if (e && typeof e.code === "string" && typeof e.message === "string") {
        reject(new ApiError(xhr.status, e.code, e.message, e));
      } else {
        reject(new ApiError(xhr.status, `http_${xhr.status}`, `The server answered ${xhr.status} ${xhr.statusText}.`.trim()));
      }
    };
    signal?.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

export const storageApi = {
  overview: (p: Place) => request<{ buckets: Bucket[]; usage: StorageUsage }>("GET", envPath(p)),
  createBucket: (p: Place, name: string) =>
    request<{ bucket: Bucket }>("POST", `${envPath(p)}/buckets`, { json: { name } }).then((r) => r.bucket),
  deleteBucket: (p: Place, bucket: string) => request<void>("DELETE", bucketPath(p, bucket)),

  /** One page of a folder: the objects in it and its subfolders (prefixes ending in /). */
  objects: (p: Place, bucket: string, prefix: string, after: string) =>
    request<ObjectPage>("GET", `${bucketPath(p, bucket)}/objects?${new URLSearchParams({ prefix, delimiter: "/", after, limit: "200" })}`),
  downloadUrl: (p: Place, bucket: string, key: string) => objectPath(p, bucket, key),
  deleteObject: (p: Place, bucket: string, key: string) => request<void>("DELETE", objectPath(p, bucket, key)),
  /** Deletes everything under a folder; answers how many objects went. */
  deleteFolder: (p: Place, bucket: string, prefix: string) =>
    request<{ deleted: number }>("DELETE", `${bucketPath(p, bucket)}/objects?${new URLSearchParams({ prefix })}`).then((r) => r.deleted),

  /** Writes a small file in one request. */
  put: (p: Place, bucket: string, key: string, file: Blob, onProgress: (sent: number) => void, signal?: AbortSignal) =>
    send<{ object: StoredObject }>("PUT", objectPath(p, bucket, key), file, onProgress, signal).then((r) => r.object),
  startUpload: (p: Place, bucket: string, key: string, contentType: string) =>
    request<{ upload: UploadState }>("POST", `${envPath(p)}/uploads`, { json: { bucket, key, contentType } }).then((r) => r.upload),
  /** Appends chunk at offset; a 409 upload_offset_mismatch says where the server stands. */
  writeChunk: (p: Place, id: string, offset: number, chunk: Blob, onProgress: (sent: number) => void, signal?: AbortSignal) =>
    send<{ upload: UploadState }>("PUT", `${uploadPath(p, id)}?offset=${offset}`, chunk, onProgress, signal).then((r) => r.upload),
  uploadStatus: (p: Place, id: string) => request<{ upload: UploadState }>("GET", uploadPath(p, id)).then((r) => r.upload),
  finishUpload: (p: Place, id: string) =>
    request<{ object: StoredObject }>("POST", `${uploadPath(p, id)}/finish`).then((r) => r.object),
  abortUpload: (p: Place, id: string) => request<void>("DELETE", uploadPath(p, id)),
};

/** Query keys of the pane; everything of one environment sits under storageKeys.env. */
export const storageKeys = {
  env: (p: Place) => ["storage", p.projectId, p.env] as const,
  objects: (p: Place, bucket: string, prefix: string) => ["storage", p.projectId, p.env, "objects", bucket, prefix] as const,
};
