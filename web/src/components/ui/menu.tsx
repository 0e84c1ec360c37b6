import { ContextMenu as CM, DropdownMenu as DM } from "radix-ui";
import type { ComponentProps } from "react";
import { cn } from "@/lib/utils";

// Dropdown and context menus share one look; each export wraps the matching
// Radix primitive with these classes.
const menuContent =
  "z-50 min-w-44 overflow-hidden rounded-md border border-border bg-popover p-1 text-[13px] text-popover-foreground shadow-lg";
const menuItem =
  "relative flex cursor-default select-none items-center gap-2 rounded px-2 py-1.5 outline-none data-[disabled]:pointer-events-none data-[disabled]:opacity-50 data-[highlighted]:bg-accent data-[highlighted]:text-accent-foreground [&_svg]:size-4 [&_svg]:text-muted-foreground";
const destructiveItem = "text-destructive-text data-[highlighted]:text-destructive-text [&_svg]:text-destructive-text";
const separator = "-mx-1 my-1 h-px bg-border";
const label = "px-2 py-1.5 text-xs font-medium text-muted-foreground";

type ItemExtra = { destructive?: boolean };

export const DropdownMenu = DM.Root;
export const DropdownMenuTrigger = DM.Trigger;

export function DropdownMenuContent({ className, ...props }: ComponentProps<typeof DM.Content>) {
  return (
    <DM.Portal>
      <DM.Content sideOffset={4} align="end" className={cn(menuContent, className)} {...props} />
    </DM.Portal>
  );
}

export function DropdownMenuItem({ className, destructive, ...props }: ComponentProps<typeof DM.Item> & ItemExtra) {
  return <DM.Item className={cn(menuItem, destructive && destructiveItem, className)} {...props} />;
}

export function DropdownMenuSeparator() {
  return <DM.Separator className={separator} />;
}

export function DropdownMenuLabel({ className, ...props }: ComponentProps<typeof DM.Label>) {
  return <DM.Label className={cn(label, className)} {...props} />;
}

export const ContextMenu = CM.Root;
export const ContextMenuTrigger = CM.Trigger;

export function ContextMenuContent({ className, ...props }: ComponentProps<typeof CM.Content>) {
  return (
    <CM.Portal>
      <CM.Content className={cn(menuContent, className)} {...props} />
    </CM.Portal>
  );
}

export function ContextMenuItem({ className, destructive, ...props }: ComponentProps<typeof CM.Item> & ItemExtra) {
  return <CM.Item className={cn(menuItem, destructive && destructiveItem, className)} {...props} />;
}

export function ContextMenuSeparator() {
  return <CM.Separator className={separator} />;
}
