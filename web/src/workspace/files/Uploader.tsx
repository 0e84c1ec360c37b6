import { useCallback, useRef, type ChangeEvent, type ReactNode } from "react";

/** Hidden file inputs for "Upload files" and "Upload folder"; pick() opens the browser's chooser. */
export function useUploader(onFiles: (files: File[], dir: string) => void): {
  pick: (kind: "files" | "folder", dir: string) => void;
  inputs: ReactNode;
} {
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const target = useRef("");

  const onChange = (e: ChangeEvent<HTMLInputElement>) => {
    const list = Array.from(e.target.files ?? []);
    e.target.value = ""; // choosing the same files again still fires change
    onFiles(list, target.current);
  };

  // The same function every render, so the workspace's files context holding it stays put.
  const pick = useCallback((kind: "files" | "folder", dir: string) => {
    target.current = dir;
    (kind === "files" ? filesInput : folderInput).current?.click();
  }, []);

  return {
    pick,
    inputs: (
      <>
        <input ref={filesInput} type="file" multiple hidden onChange={onChange} data-testid="upload-files-input" />
        <input
          ref={(el) => {
            folderInput.current = el;
            el?.setAttribute("webkitdirectory", "");
          }}
          type="file"
          hidden
          onChange={onChange}
          data-testid="upload-folder-input"
        />
      </>
    ),
  };
}
