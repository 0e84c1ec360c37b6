import { useState, type FormEvent } from "react";
import { toast } from "sonner";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogFooter } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { usePending } from "@/components/ui/use-pending";
import { Segmented } from "@/deploy/Segmented";
import { kvApi, type KvEnv } from "./api";
import { parseValue, type ValueMode } from "./value";

interface AddKeyDialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  projectId: string;
  env: KvEnv;
  onAdded: (key: string) => void;
}

const modeOptions = [
  { value: "json", label: "JSON" },
  { value: "text", label: "Text" },
] as const;

/** A dialog that sets a key: its name and value (JSON by default, as the Replit clients store values). */
export function AddKeyDialog(props: AddKeyDialogProps) {
  return (
    <Dialog open={props.open} onOpenChange={props.onOpenChange}>
      {props.open && <AddKeyForm {...props} />}
    </Dialog>
  );
}

function AddKeyForm({ onOpenChange, projectId, env, onAdded }: AddKeyDialogProps) {
  const [key, setKey] = useState("");
  const [text, setText] = useState("");
  const [mode, setMode] = useState<ValueMode>("json");
  const { pending, error, setError, run } = usePending();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!key) {
      setError("Name the key.");
      return;
    }
    const parsed = parseValue(text, mode);
    if (!parsed.ok) {
      setError(parsed.error);
      return;
    }
    void run(
      () => kvApi.set(projectId, env, key, parsed.value),
      () => {
        onOpenChange(false);
        onAdded(key);
        toast.success(`Set ${key}`);
      },
    );
  };
  return (
    <DialogContent title="Add a key" description={`In the ${env} store. Naming a key that exists replaces its value.`}>
      <form className="grid gap-3" onSubmit={submit}>
        <Field label="Key" value={key} onChange={(e) => setKey(e.target.value)} placeholder="user:42" autoFocus spellCheck={false} />
        <div className="grid gap-1.5">
          <div className="flex items-center gap-2">
            <Label htmlFor="kv-new-value">Value</Label>
            <span className="ml-auto">
              <Segmented label="Value format" value={mode} onChange={setMode} options={modeOptions} />
            </span>
          </div>
          <textarea
            id="kv-new-value"
            value={text}
            spellCheck={false}
            onChange={(e) => setText(e.target.value)}
            placeholder={mode === "json" ? '{"name": "Ada"}' : "any text"}
            className="min-h-28 rounded-md border border-input bg-background p-2 font-mono text-[13px] text-foreground focus-visible:outline-2 focus-visible:outline-offset-0 focus-visible:outline-ring"
          />
        </div>
        {error && (
          <p role="alert" className="text-xs text-destructive-text">
            {error}
          </p>
        )}
        <DialogFooter>
          <Button type="button" variant="ghost" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" disabled={pending}>
            {pending && <Spinner className="text-current" />} Set key
          </Button>
        </DialogFooter>
      </form>
    </DialogContent>
  );
}
