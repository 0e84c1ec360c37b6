import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Bell, CheckCheck } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router";
import { toast } from "sonner";
import { notificationKeys, notificationsApi, type AppNotification } from "@/alerts/api";
import { Button } from "@/components/ui/button";
import { Popover, PopoverContent, PopoverTrigger } from "@/components/ui/popover";
import { Spinner } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { timeAgo } from "@/lib/format";
import { cn } from "@/lib/utils";

/** The signed-in person's notifications: a bell with the unread count, the list in a popover, marked read there. */
export function NotificationBell() {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const list = useQuery({
    queryKey: notificationKeys.list,
    queryFn: notificationsApi.list,
    refetchInterval: 60_000,
  });
  const read = useMutation({
    mutationFn: notificationsApi.read,
    onError: (err) => toast.error("Couldn't mark notifications read", { description: errorMessage(err) }),
    onSettled: () => qc.invalidateQueries({ queryKey: notificationKeys.list }),
  });
  const unread = list.data?.unread ?? 0;
  const label = unread > 0 ? `Notifications, ${unread} unread` : "Notifications";
  return (
    <Popover open={open} onOpenChange={setOpen}>
      <PopoverTrigger asChild>
        <Button size="icon" variant="ghost" aria-label={label} className="relative" data-testid="notification-bell">
          <Bell />
          {unread > 0 && (
            <span
              aria-hidden
              className="absolute -right-0.5 -top-0.5 min-w-4 rounded-full bg-primary px-1 text-center text-[10px] font-semibold leading-4 text-primary-foreground"
            >
              {unread > 99 ? "99+" : unread}
            </span>
          )}
        </Button>
      </PopoverTrigger>
      <PopoverContent align="end" className="grid w-80 gap-2 p-2">
        <div className="flex items-center justify-between px-1">
          <h2 className="text-sm font-semibold">Notifications</h2>
          <Button size="sm" variant="ghost" disabled={unread === 0 || read.isPending} onClick={() => read.mutate({ all: true })}>
            <CheckCheck /> Mark all read
          </Button>
        </div>
        {list.isPending && <Spinner label="Loading notifications" />}
        {list.isError && <p className="px-1 text-xs text-destructive-text">{errorMessage(list.error)}</p>}
        {list.data?.notifications.length === 0 && <p className="px-1 py-4 text-center text-muted-foreground">Nothing new.</p>}
        {list.data && list.data.notifications.length > 0 && (
          <ul aria-label="Notifications" className="grid max-h-96 gap-1 overflow-y-auto">
            {list.data.notifications.map((n) => (
              <Item
                key={n.id}
                n={n}
                onOpen={() => {
                  if (!n.read) read.mutate({ ids: [n.id] });
                  setOpen(false);
                }}
              />
            ))}
          </ul>
        )}
      </PopoverContent>
    </Popover>
  );
}

function Item({ n, onOpen }: { n: AppNotification; onOpen: () => void }) {
  const body = (
    <>
      <span className={cn("flex items-center gap-2", !n.read && "font-semibold")}>
        {!n.read && <span aria-label="Unread" className="size-2 shrink-0 rounded-full bg-primary" />}
        {n.title}
      </span>
      <span className="line-clamp-2 text-xs text-muted-foreground">{n.body}</span>
      <span className="text-[11px] text-muted-foreground">{timeAgo(n.createdAt)}</span>
    </>
  );
  const cls = "grid gap-0.5 rounded-md px-2 py-1.5 text-left hover:bg-muted focus-visible:bg-muted focus-visible:outline-none";
  return (
    <li>
      {n.link ? (
        <Link to={n.link} className={cls} onClick={onOpen}>
          {body}
        </Link>
      ) : (
        <button type="button" className={cn(cls, "w-full")} onClick={onOpen}>
          {body}
        </button>
      )}
    </li>
  );
}
