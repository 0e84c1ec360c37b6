import { toast } from "sonner";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { PromptDialog } from "@/components/ui/prompt-dialog";
import { basename, normalizePath } from "@/lib/paths";
import { useLayout, useProjectFiles } from "../model";
import { pathProblem } from "./tree";

/** The create / rename / delete dialogs of the file tree, opened through the workspace model. */
export function FileDialogs() {
  const { setMobileTab } = useLayout();
  const { fileDialog, setFileDialog, ops, revealInTree } = useProjectFiles();
  const d = fileDialog;
  const close = (open: boolean) => !open && setFileDialog(null);
  const hint = "Use “/” to put it inside folders, e.g. src/app.js.";

  return (
    <>
      <PromptDialog
        open={d?.kind === "new-file" || d?.kind === "new-folder"}
        onOpenChange={close}
        title={d?.kind === "new-folder" ? "New folder" : "New file"}
        description={hint}
        label={d?.kind === "new-folder" ? "Folder name" : "File name"}
        initialValue={d && "dir" in d && d.dir ? `${d.dir}/` : ""}
        placeholder={d?.kind === "new-folder" ? "src" : "index.js"}
        submitLabel="Create"
        validate={pathProblem}
        onSubmit={async (value) => {
          const path = normalizePath(value);
          if (d?.kind === "new-folder") {
            await ops.createFolder(path);
            revealInTree(path, true);
          } else {
            await ops.createFile(path);
            setMobileTab("code");
          }
        }}
      />
      <PromptDialog
        open={d?.kind === "rename"}
        onOpenChange={close}
        title={`Rename ${d && "path" in d ? basename(d.path) : ""}`}
        description="Change the name, or the folders in the path to move it."
        label="New path"
        initialValue={d && "path" in d ? d.path : ""}
        submitLabel="Rename"
        validate={pathProblem}
        onSubmit={async (value) => {
          if (d?.kind !== "rename") return;
          const to = normalizePath(value);
          if (to !== d.path && ops.exists(to)) throw new Error(`${to} already exists.`);
          await ops.move(d.path, to);
          toast.success(`Renamed to ${to}`);
        }}
      />
      <ConfirmDialog
        open={d?.kind === "delete"}
        onOpenChange={close}
        title={`Delete ${d && "path" in d ? basename(d.path) : ""}?`}
        description={
          d?.kind === "delete" && d.dir
            ? `The folder ${d.path} and everything in it will be deleted.`
            : `${d && "path" in d ? d.path : "The file"} will be deleted.`
        }
        confirmLabel="Delete"
        destructive
        onConfirm={async () => {
          if (d?.kind !== "delete") return;
          await ops.remove(d.path);
          toast.success(`Deleted ${d.path}`);
        }}
      />
    </>
  );
}
