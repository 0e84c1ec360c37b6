import { File } from "lucide-react";
import { Fragment, useMemo } from "react";
import { Kbd } from "@/components/ui/badge";
import { CommandDialog, CommandEmpty, CommandGroup, CommandItem } from "@/components/ui/command";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { modKey } from "@/lib/keys";
import { basename, dirname } from "@/lib/paths";
import type { Action } from "../actions";
import { useLayout, useProjectFiles, useEditorTabs } from "../model";

function Keys({ keys }: { keys: string[] }) {
  return (
    <span className="ml-auto flex gap-0.5">
      {keys.map((k) => (
        <Kbd key={k}>{k}</Kbd>
      ))}
    </span>
  );
}

/** Ctrl/Cmd-P: every file, fuzzy-matched by path. */
export function QuickOpen() {
  const { setOverlay, overlay } = useLayout();
  const { files } = useProjectFiles();
  const { openFile } = useEditorTabs();
  const paths = useMemo(() => files.filter((f) => !f.dir).map((f) => f.path), [files]);
  const close = () => setOverlay(null);
  return (
    <CommandDialog
      open={overlay === "quick-open"}
      onOpenChange={(open) => !open && close()}
      title="Go to file"
      placeholder="Type a file name"
    >
      <CommandEmpty>No matching files.</CommandEmpty>
      {paths.map((path) => (
        <CommandItem
          key={path}
          value={path}
          onSelect={() => {
            close();
            openFile(path, { focus: true });
          }}
        >
          <File aria-hidden />
          <span className="truncate">{basename(path)}</span>
          <span className="truncate text-xs text-muted-foreground">{dirname(path)}</span>
        </CommandItem>
      ))}
    </CommandDialog>
  );
}

/** Ctrl/Cmd-K: every action in the workspace. */
export function CommandPalette({ actions }: { actions: Action[] }) {
  const { setOverlay, overlay } = useLayout();
  const groups = useMemo(() => {
    const byGroup = new Map<Action["group"], Action[]>();
    for (const a of actions) byGroup.set(a.group, [...(byGroup.get(a.group) ?? []), a]);
    return byGroup;
  }, [actions]);
  const close = () => setOverlay(null);
  return (
    <CommandDialog
      open={overlay === "palette"}
      onOpenChange={(open) => !open && close()}
      title="Command palette"
      placeholder="Type a command"
    >
      <CommandEmpty>No matching commands.</CommandEmpty>
      {[...groups].map(([group, list]) => (
        <CommandGroup key={group} heading={group}>
          {list.map((a) => (
            <CommandItem
              key={a.id}
              value={`${a.title} ${a.id}`}
              disabled={a.disabled !== undefined}
              onSelect={() => {
                close();
                a.run();
              }}
            >
              <a.icon aria-hidden />
              <span>{a.title}</span>
              {a.disabled && <span className="text-xs text-muted-foreground">— {a.disabled}</span>}
              {a.keys && <Keys keys={a.keys} />}
            </CommandItem>
          ))}
        </CommandGroup>
      ))}
    </CommandDialog>
  );
}

const editorKeys: { title: string; keys: string[] }[] = [
  { title: "Command palette", keys: [modKey, "K"] },
  { title: "Find in file", keys: [modKey, "F"] },
  { title: "Undo / redo", keys: [modKey, "Z", "/", modKey, "⇧", "Z"] },
  { title: "Indent / outdent", keys: ["Tab", "/", "⇧", "Tab"] },
  { title: "Leave the editor (then Tab moves focus)", keys: ["Esc"] },
  { title: "Tree: move, open, close folder", keys: ["↑", "↓", "→", "←"] },
  { title: "Tree: rename, delete", keys: ["F2", "Del"] },
];

/** "?": every shortcut in one place. */
export function ShortcutHelp({ actions }: { actions: Action[] }) {
  const { overlay, setOverlay } = useLayout();
  const rows = [
    ...actions.filter((a) => a.keys).map((a) => ({ title: a.disabled ? `${a.title} (${a.disabled.toLowerCase()})` : a.title, keys: a.keys! })),
    ...editorKeys,
  ];
  return (
    <Dialog open={overlay === "help"} onOpenChange={(open) => !open && setOverlay(null)}>
      <DialogContent title="Keyboard shortcuts" className="max-w-lg">
        <dl className="grid grid-cols-[1fr_auto] gap-x-6 gap-y-2 text-[13px]">
          {rows.map((r) => (
            <Fragment key={r.title}>
              <dt>{r.title}</dt>
              <dd className="flex justify-end gap-0.5">
                {r.keys.map((k, i) => (
                  <Kbd key={i}>{k}</Kbd>
                ))}
              </dd>
            </Fragment>
          ))}
        </dl>
      </DialogContent>
    </Dialog>
  );
}
