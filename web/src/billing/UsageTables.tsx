import type { ReactNode } from "react";
import { Section } from "@/monitoring/Section";
import type { UsageRow } from "./api";
import { chargeText, meterLabel, quantityText } from "./format";

interface Group {
  key: string;
  name: string;
  amount: number;
  /** Usage that was measured but not charged (an agent run that made no progress). */
  waived: number;
  /** Per meter: credits and quantity. */
  meters: Map<string, { amount: number; quantity: number }>;
}

/** Rows summed by key, largest charge first. */
function groupBy(rows: UsageRow[], key: (r: UsageRow) => string, name: (r: UsageRow) => string): Group[] {
  const groups = new Map<string, Group>();
  for (const r of rows) {
    const k = key(r);
    let g = groups.get(k);
    if (!g) {
      g = { key: k, name: name(r), amount: 0, waived: 0, meters: new Map() };
      groups.set(k, g);
    }
    g.amount += r.amount;
    if (r.waived || (r.amount === 0 && r.quantity > 0)) g.waived += 1;
    const m = g.meters.get(r.meter) ?? { amount: 0, quantity: 0 };
    m.amount += r.amount;
    m.quantity += r.quantity;
    g.meters.set(r.meter, m);
  }
  return [...groups.values()].sort((a, b) => b.amount - a.amount || a.name.localeCompare(b.name));
}

/** Credits, or "not charged" where everything measured was waived. */
function Charge({ group }: { group: Pick<Group, "amount" | "waived"> }) {
  if (group.amount === 0 && group.waived > 0) return <span className="text-muted-foreground">not charged</span>;
  return (
    <>
      {chargeText(group.amount)}
      {group.waived > 0 && <span className="ml-1 text-muted-foreground">(some not charged)</span>}
    </>
  );
}

const td = "px-2 py-1 tabular-nums";

/** Where the period's credits went: per project, per person (per member of a team), per meter. */
export function UsageTables({ rows, team }: { rows: UsageRow[]; team: boolean }) {
  const projects = groupBy(rows, (r) => r.projectId, (r) => r.project || "(deleted project)");
  const people = groupBy(rows, (r) => r.userId, (r) => (r.userId ? r.user || r.userId : "—"));
  const meters = groupBy(rows, (r) => r.meter, (r) => meterLabel(r.meter));
  return (
    <div className="grid gap-4">
      <Table title="Per project" columns={["Project", "Credits", "Most of it"]} testId="usage-projects">
        {projects.map((g) => (
          <tr key={g.key} className="border-t border-border">
            <td className="max-w-64 truncate px-2 py-1" title={g.name}>
              {g.name}
            </td>
            <td className={td}>
              <Charge group={g} />
            </td>
            <td className="px-2 py-1 text-muted-foreground">{topMeters(g)}</td>
          </tr>
        ))}
      </Table>
      <Table title={team ? "Per member" : "Per person"} columns={[team ? "Member" : "Person", "Credits"]} testId="usage-people">
        {people.map((g) => (
          <tr key={g.key || "nobody"} className="border-t border-border">
            <td className="px-2 py-1">{g.name}</td>
            <td className={td}>
              <Charge group={g} />
            </td>
          </tr>
        ))}
      </Table>
      <Table title="Per meter" columns={["Meter", "Quantity", "Credits"]} testId="usage-meters">
        {meters.map((g) => {
          const quantity = [...g.meters.values()].reduce((s, m) => s + m.quantity, 0);
          return (
            <tr key={g.key} className="border-t border-border">
              <td className="px-2 py-1">{g.name}</td>
              <td className={td}>{quantityText(g.key, quantity)}</td>
              <td className={td}>
                <Charge group={g} />
              </td>
            </tr>
          );
        })}
      </Table>
    </div>
  );
}

/** A project's three largest meters: "Sandbox CPU 3.20 · AI output 1.10". */
function topMeters(g: Group): string {
  return [...g.meters.entries()]
    .filter(([, m]) => m.amount > 0)
    .sort((a, b) => b[1].amount - a[1].amount)
    .slice(0, 3)
    .map(([meter, m]) => `${meterLabel(meter)} ${chargeText(m.amount)}`)
    .join(" · ");
}

function Table({ title, columns, testId, children }: { title: string; columns: string[]; testId: string; children: ReactNode }) {
  return (
    <Section title={title}>
      <div className="overflow-x-auto rounded-md border border-border" data-testid={testId}>
        <table className="w-full text-xs">
          <thead className="bg-muted text-muted-foreground">
            <tr>
              {columns.map((c) => (
                <th key={c} scope="col" className="px-2 py-1 text-left font-medium">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>{children}</tbody>
        </table>
      </div>
    </Section>
  );
}
