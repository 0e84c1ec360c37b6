import { CalendarClock, Cloud, FileCode2, Server, type LucideIcon } from "lucide-react";
import type { DeployTarget } from "@/lib/api";

export interface TargetInfo {
  id: DeployTarget;
  icon: LucideIcon;
  name: string;
  what: string;
}

/** The four kinds of deployment, in the order the pane offers them. */
export const targets: TargetInfo[] = [
  {
    id: "static",
    icon: FileCode2,
    name: "Static",
    what: "HTML, CSS and JavaScript served as files, for sites with no server.",
  },
  {
    id: "autoscale",
    icon: Cloud,
    name: "Autoscale",
    what: "A web server that scales with its traffic, down to nothing when idle.",
  },
  {
    id: "vm",
    icon: Server,
    name: "Reserved VM",
    what: "A server that is always on, for bots, websockets and background work.",
  },
  {
    id: "scheduled",
    icon: CalendarClock,
    name: "Scheduled",
    what: "A command that runs on a schedule, like a cron job.",
  },
];
