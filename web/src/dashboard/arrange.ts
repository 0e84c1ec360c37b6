import type { ListedProject } from "@/lib/api";
import { languageAliases } from "./LanguageIcon";

export type ProjectSort = "edited" | "name" | "created";

export const projectSorts: { id: ProjectSort; label: string }[] = [
  { id: "edited", label: "Last edited" },
  { id: "name", label: "Name" },
  { id: "created", label: "Created" },
];

/** Projects whose name, owner, slug or language match every word of query, in the chosen order. */
export function arrangeProjects(projects: ListedProject[], query: string, sort: ProjectSort): ListedProject[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const matches = (p: ListedProject) => {
    const text = `${p.name} ${p.owner}/${p.slug} ${languageAliases[p.language] ?? p.language}`.toLowerCase();
    return words.every((w) => text.includes(w));
  };
  const order: Record<ProjectSort, (a: ListedProject, b: ListedProject) => number> = {
    edited: (a, b) => b.lastEditedAt - a.lastEditedAt,
    name: (a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base", numeric: true }),
    created: (a, b) => b.createdAt - a.createdAt,
  };
  return projects.filter(matches).sort(order[sort]);
}
