import { useState, type ReactNode } from "react";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { Segmented } from "@/deploy/Segmented";
import type { Range } from "./api";
import { ranges } from "./format";

type Section = "overview" | "errors" | "replays" | "alerts" | "settings";
type Sections = Partial<Record<Section, ReactNode>>;

const labels: Record<Section, string> = {
  overview: "Overview",
  errors: "Errors",
  replays: "Replays",
  alerts: "Alerts",
  settings: "Settings",
};

/** The sub-tab ?monitoring= names (an alert's notification links to ?pane=deploy&monitoring=alerts), if any. */
function sectionFromUrl(): Section | null {
  const wanted = new URLSearchParams(window.location.search).get("monitoring");
  return (Object.keys(labels) as Section[]).find((s) => s === wanted) ?? null;
}

/** Only these look at a time range. */
const ranged: ReadonlySet<Section> = new Set(["overview", "errors", "replays"]);

/**
 * The sub-tabs of a monitoring dashboard, with the time range beside them where the open one uses it.
 * sections gives the sub-tabs shown, in order, with what each shows over the range; show opens another.
 */
export function MonitoringTabs({ sections }: { sections: (range: Range, show: (s: Section) => void) => Sections }) {
  const [picked, setPicked] = useState(sectionFromUrl);
  const [range, setRange] = useState<Range>("24h");
  const content = sections(range, setPicked);
  const shown = (Object.keys(labels) as Section[]).filter((s) => s in content);
  const section = picked !== null && shown.includes(picked) ? picked : "overview";
  return (
    <Tabs
      value={section}
      onValueChange={(v) => setPicked(v as Section)}
      className="@container/monitoring flex h-full min-h-0 flex-col text-[13px]"
    >
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-border pr-2">
        <TabsList aria-label="Monitoring sections" className="border-b-0">
          {shown.map((s) => (
            <TabsTrigger key={s} value={s}>
              {labels[s]}
            </TabsTrigger>
          ))}
        </TabsList>
        {ranged.has(section) && <Segmented label="Time range" value={range} options={ranges} onChange={setRange} />}
      </div>
      {shown.map((s) => (
        <TabsContent key={s} value={s} className="overflow-auto p-3">
          {content[s]}
        </TabsContent>
      ))}
    </Tabs>
  );
}
