import { ChevronDown, Download } from "lucide-react";
import { Button } from "@/components/ui/button";
import {
  DropdownMenu,
  DropdownMenuContent,
  DropdownMenuItem,
  DropdownMenuLabel,
  DropdownMenuTrigger,
} from "@/components/ui/menu";

const formats = [
  { id: "kubernetes", name: "Kubernetes", makes: "Deployment + Service, Knative Service or CronJob" },
  { id: "cloudrun", name: "Cloud Run", makes: "service, or job run by Cloud Scheduler" },
] as const;

function exportUrl(projectId: string, format: string) {
  return `/api/projects/${encodeURIComponent(projectId)}/deployment/export?format=${format}`;
}

/**
 * Download the deployment, as its saved settings describe it, as YAML to run it on Kubernetes or Cloud Run.
 * A static site has nothing to export: the platform serves its files itself.
 */
export function ExportMenu({ projectId, target }: { projectId: string; target?: string }) {
  const exportable = target === "autoscale" || target === "vm" || target === "scheduled";
  return (
    <section aria-labelledby="export-heading" className="grid gap-2">
      <h2 id="export-heading" className="text-sm font-semibold">
        Export
      </h2>
      <p className="text-muted-foreground">
        {exportable
          ? "Run it elsewhere: download the saved settings as Kubernetes or Cloud Run YAML. Secrets are named, never included."
          : "A static site is served by the platform itself, so there is nothing to export. Autoscale, reserved VM and scheduled deployments can be exported as YAML."}
      </p>
      {exportable && (
        <DropdownMenu>
          <DropdownMenuTrigger asChild>
            <Button variant="outline" size="sm" className="justify-self-start" data-testid="deploy-export">
              <Download /> Export <ChevronDown />
            </Button>
          </DropdownMenuTrigger>
          <DropdownMenuContent>
            <DropdownMenuLabel>Download as</DropdownMenuLabel>
            {formats.map((f) => (
              <DropdownMenuItem key={f.id} asChild>
                <a href={exportUrl(projectId, f.id)} download data-testid={`deploy-export-${f.id}`}>
                  <span className="grid">
                    <span>{f.name}</span>
                    <span className="text-xs text-muted-foreground">{f.makes}</span>
                  </span>
                </a>
              </DropdownMenuItem>
            ))}
          </DropdownMenuContent>
        </DropdownMenu>
      )}
    </section>
  );
}
