import { useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { toast } from "sonner";
import type { DocumentStore } from "@/editor/documents";
import { api, errorMessage, type FileEntry } from "@/lib/api";
import { basename, isWithin, joinPath } from "@/lib/paths";

export const filesKey = (projectId: string) => ["files", projectId] as const;

export type FileOps = ReturnType<typeof useFileOps>;

/** The file tree's operations: each calls the API, then updates open tabs and the cached listing. */
export function useFileOps(projectId: string, store: DocumentStore, files: FileEntry[]) {
  const qc = useQueryClient();
  return useMemo(() => {
    const refresh = () => qc.invalidateQueries({ queryKey: filesKey(projectId) });
    const exists = (path: string) => files.some((f) => f.path === path);

    return {
      exists,
      async createFile(path: string) {
        if (exists(path)) throw new Error(`${path} already exists.`);
        await api.writeFile(projectId, path, "");
        await refresh();
        store.open(path, { focus: true });
      },
      async createFolder(path: string) {
        await api.mkdir(projectId, path);
        await refresh();
      },
      async move(from: string, to: string) {
        if (from === to) return;
        if (isWithin(to, from)) throw new Error("A folder can't be moved into itself.");
        store.expect(from);
        await api.move(projectId, from, to);
        store.moved(from, to);
        await refresh();
      },
      async remove(path: string) {
        store.expect(path);
        await api.deleteFile(projectId, path);
        store.deleted(path);
        await refresh();
      },
      /** Drag-and-drop move onto a folder ("" is the project root), reporting the outcome as a toast. */
      moveInto(from: string, folder: string) {
        const to = joinPath(folder, basename(from));
        if (to === from) return;
        this.move(from, to).then(
          () => toast.success(`Moved ${basename(from)} to ${folder || "the project root"}`),
          (err: unknown) => toast.error(`Couldn't move ${basename(from)}`, { description: errorMessage(err) }),
        );
      },
      upload(list: File[], dir: string) {
        if (list.length === 0) return;
        const what = list.length === 1 ? list[0].name : `${list.length} files`;
        toast.promise(
          api.upload(projectId, list, dir || undefined).then(async (written) => {
            await refresh();
            return written;
          }),
          {
            loading: `Uploading ${what}…`,
            success: (written) => `Uploaded ${written.length === 1 ? written[0].path : `${written.length} files`}`,
            error: (err: unknown) => ({ message: `Couldn't upload ${what}`, description: errorMessage(err) }),
          },
        );
      },
    };
  }, [qc, projectId, store, files]);
}
