import { CalendarClock, Cloud, FileCode2, Server, type LucideIcon } from "lucide-react";

const kinds: { icon: LucideIcon; name: string; what: string }[] = [
  { icon: FileCode2, name: "Static", what: "HTML, CSS and JavaScript served as files, for sites with no server." },
  { icon: Cloud, name: "Autoscale", what: "A web server that scales with its traffic, down to nothing when idle." },
  { icon: Server, name: "Reserved VM", what: "A server that is always on, for bots, websockets and background work." },
  { icon: CalendarClock, name: "Scheduled", what: "A command that runs on a schedule, like a cron job." },
];

/** The Deploy tab: honest about deployments not being here yet. */
export function DeployTab() {
  return (
    <div className="grid gap-3 text-[13px]">
      <p className="text-foreground">
        Deployments are coming to E-Code. Until then, your app runs in the workspace: press Run, and share the project
        to let others see it.
      </p>
      <ul aria-label="Kinds of deployment" className="grid gap-2">
        {kinds.map(({ icon: Icon, name, what }) => (
          <li key={name} className="flex items-start gap-2">
            <Icon className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
            <span>
              <span className="font-medium text-foreground">{name}</span>{" "}
              <span className="text-muted-foreground">{what}</span>
            </span>
          </li>
        ))}
      </ul>
      <p className="text-muted-foreground">
        When they arrive, the agent will pick the kind that fits what it built, and its choice will appear here.
      </p>
    </div>
  );
}
