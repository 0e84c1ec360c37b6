import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { KeyRound, TriangleAlert } from "lucide-react";
import { useId, useState, type ReactNode } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { CopyButton } from "@/components/ui/copy-button";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Loading } from "@/components/ui/spinner";
import { errorMessage } from "@/lib/api";
import { monitoringApi, monitoringKeys, type MonitoringSettings, type SettingsChange } from "./api";
import { Section } from "./Section";

type Switch = "inject" | "replayOnError" | "maskText";

const switches: Record<Switch, { label: string; hint: string }> = {
  inject: {
    label: "Add the monitoring script to my deployment's pages",
    hint:
      "The deployment's HTML pages get the script tag below: errors, Web Vitals, page views and failed requests " +
      "arrive here without changing your code or deploying again.",
  },
  replayOnError: {
    label: "Record sessions in which an error happens",
    hint: "Sessions not picked by the share above are kept in the browser for a few minutes and sent only if an error happens.",
  },
  maskText: {
    label: "Mask all text in replays",
    hint: "Text shows as asterisks in replays; what people type in inputs is always masked, and elements marked data-private are left out.",
  },
};

interface SettingsProps {
  projectId: string;
  /** May change the settings (editors). */
  canEdit: boolean;
  /** May make a new ingest key (the project's administrators). */
  canAdmin: boolean;
}

/** Whether and how the deployment's pages are monitored, and how to monitor pages hosted elsewhere. */
export function Settings({ projectId, canEdit, canAdmin }: SettingsProps) {
  const qc = useQueryClient();
  const key = monitoringKeys.settings(projectId);
  const state = useQuery({ queryKey: key, queryFn: () => monitoringApi.settings(projectId) });
  const save = useMutation({
    mutationFn: (change: SettingsChange) => monitoringApi.saveSettings(projectId, change),
    onSuccess: (s) => qc.setQueryData(key, s),
    onError: (err) => toast.error("Couldn't save the monitoring settings", { description: errorMessage(err) }),
  });
  if (state.isPending) return <Loading label="Loading the monitoring settings" />;
  if (state.isError) return <ErrorState error={state.error} onRetry={() => void state.refetch()} />;
  // While a change is on its way, the controls show it.
  const s: MonitoringSettings = { ...state.data, ...(save.isPending ? save.variables : {}) };
  const locked = !canEdit || save.isPending;
  const toggle = (field: Switch) => (
    <Toggle {...switches[field]} checked={s[field]} disabled={locked} onChange={(on) => save.mutate({ [field]: on })} />
  );
  return (
    <div className="grid max-w-2xl gap-5" data-testid="monitoring-settings">
      {!canEdit && <p className="text-muted-foreground">Only the project's editors can change these settings.</p>}
      <Section title="Collect" className="gap-3">
        {toggle("inject")}
        <ReplaySample
          key={state.data.replaySample}
          share={state.data.replaySample}
          disabled={locked}
          onSave={(replaySample) => save.mutate({ replaySample })}
        />
        {toggle("replayOnError")}
        {toggle("maskText")}
        {!s.maskText && (
          <p role="alert" className="flex items-start gap-2 rounded-md border border-warning/50 bg-warning/10 p-2 text-foreground">
            <TriangleAlert className="mt-0.5 size-4 shrink-0 text-warning" aria-hidden />
            Replays now show your pages' text as visitors saw it, which may include names, addresses or other personal
            data. Mark such elements with data-private, or keep text masked.
          </p>
        )}
      </Section>
      <IngestKey projectId={projectId} settings={state.data} canRotate={canAdmin} />
      <Code
        title="Pages hosted elsewhere"
        what="Snippet"
        intro="Put this tag in the <head> of every page; it carries the key and the settings above."
        code={state.data.snippet}
      />
      <Code
        title="As a module"
        what="Import"
        intro="In code you bundle or write as an ES module, start monitoring yourself; captureError, track and monitoredFetch come from the same module."
        code={moduleUsage(state.data)}
      />
    </div>
  );
}

interface ToggleProps {
  label: string;
  hint: string;
  checked: boolean;
  disabled: boolean;
  onChange: (on: boolean) => void;
}

function Toggle({ label, hint, checked, disabled, onChange }: ToggleProps) {
  const id = useId();
  return (
    <div className="grid grid-cols-[auto_1fr] items-start gap-x-2 gap-y-0.5">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        disabled={disabled}
        onChange={(e) => onChange(e.target.checked)}
        aria-describedby={`${id}-hint`}
        className="mt-0.5 size-4 accent-primary"
      />
      <Label htmlFor={id}>{label}</Label>
      <p id={`${id}-hint`} className="col-start-2 text-xs text-muted-foreground">
        {hint}
      </p>
    </div>
  );
}

/** The share of sessions recorded, as a percentage picked on a slider or typed; saved when asked. */
function ReplaySample({ share, disabled, onSave }: { share: number; disabled: boolean; onSave: (share: number) => void }) {
  const id = useId();
  const [percent, setPercent] = useState(() => Math.round(share * 100));
  const valid = Number.isInteger(percent) && percent >= 0 && percent <= 100;
  const changed = valid && percent !== Math.round(share * 100);
  return (
    <form
      className="grid gap-1"
      onSubmit={(e) => {
        e.preventDefault();
        if (changed) onSave(percent / 100);
      }}
    >
      <Label htmlFor={id}>Sessions recorded for replay</Label>
      <div className="flex flex-wrap items-center gap-2">
        <input
          type="range"
          min={0}
          max={100}
          step={1}
          value={valid ? percent : 0}
          disabled={disabled}
          onChange={(e) => setPercent(Number(e.target.value))}
          aria-label="Sessions recorded for replay, in percent"
          className="w-48 accent-primary"
        />
        <Input
          id={id}
          type="number"
          min={0}
          max={100}
          step={1}
          value={Number.isNaN(percent) ? "" : percent}
          disabled={disabled}
          onChange={(e) => setPercent(e.target.value === "" ? Number.NaN : Number(e.target.value))}
          aria-invalid={valid ? undefined : true}
          className="h-7 w-20"
        />
        <span>%</span>
        {changed && (
          <Button type="submit" size="sm" disabled={disabled}>
            Save
          </Button>
        )}
      </div>
      <p className={valid ? "text-xs text-muted-foreground" : "text-xs text-destructive-text"}>
        {valid
          ? "A share of all sessions, picked at random when each starts; 0 records only sessions with an error (if that is on)."
          : "A whole number from 0 to 100."}
      </p>
    </form>
  );
}

/** The public key pages send their events with; a new one stops the old at once. */
function IngestKey({ projectId, settings, canRotate }: { projectId: string; settings: MonitoringSettings; canRotate: boolean }) {
  const qc = useQueryClient();
  const [asking, setAsking] = useState(false);
  return (
    <Section title="Ingest key">
      <p className="text-xs text-muted-foreground">
        It is public (it sits in your pages' HTML) and only lets pages send events and replays to this deployment.
      </p>
      <div className="flex flex-wrap items-center gap-2">
        <code className="rounded-md border border-border bg-muted px-2 py-1 font-mono text-xs break-all" data-testid="ingest-key">
          {settings.ingestKey}
        </code>
        <CopyButton text={settings.ingestKey} what="Key" />
        {canRotate && (
          <Button size="sm" variant="ghost" onClick={() => setAsking(true)}>
            <KeyRound /> New key
          </Button>
        )}
      </div>
      <ConfirmDialog
        open={asking}
        onOpenChange={setAsking}
        title="Make a new ingest key?"
        description="The current key stops working at once. Pages the deployment serves with the script injected get the new one on their next load; pages hosted elsewhere need the new snippet."
        confirmLabel="Make a new key"
        destructive
        onConfirm={async () => {
          qc.setQueryData(monitoringKeys.settings(projectId), await monitoringApi.rotateKey(projectId));
          toast.success("New ingest key made", { description: "Update the snippet on pages hosted elsewhere." });
        }}
      />
    </Section>
  );
}

function Code({ title, what, intro, code }: { title: string; what: string; intro: ReactNode; code: string }) {
  return (
    <Section title={title} action={<CopyButton text={code} what={what} />}>
      <p className="text-xs text-muted-foreground">{intro}</p>
      <pre className="overflow-x-auto rounded-md border border-border bg-muted p-2 font-mono text-xs whitespace-pre-wrap break-all">
        {code}
      </pre>
    </Section>
  );
}

/** The ES module's import from where the platform serves it (the snippet's endpoint), with the key and the settings. */
function moduleUsage(s: MonitoringSettings): string {
  const endpoint = /data-endpoint="([^"]*)"/.exec(s.snippet)?.[1] ?? window.location.origin;
  const options = { key: s.ingestKey, endpoint, replay: s.replaySample, replayOnError: s.replayOnError, maskText: s.maskText };
  const lines = Object.entries(options).map(([k, v]) => `  ${k}: ${JSON.stringify(v)},`);
  return [`import { init } from "${endpoint}/sdk/monitor.mjs";`, "", "init({", ...lines, "});"].join("\n");
}
