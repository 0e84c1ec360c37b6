import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Save, Trash2, X } from "lucide-react";
import { useState } from "react";
import { toast } from "sonner";
import { ErrorState } from "@/components/ErrorState";
import { Button } from "@/components/ui/button";
import { Loading, Spinner } from "@/components/ui/spinner";
import { sizeText } from "@/database/bytes";
import { Segmented } from "@/deploy/Segmented";
import { errorMessage } from "@/lib/api";
import { timeAgo } from "@/lib/format";
import { kvApi, kvKeys, type KvEnv, type KvValue } from "./api";
import { parseValue, pretty, type ValueMode } from "./value";

interface ValueEditorProps {
  projectId: string;
  env: KvEnv;
  entryKey: string;
  onClose: () => void;
  /** The store changed: a save or a delete. */
  onChanged: () => void;
}

const modeOptions = [
  { value: "json", label: "JSON" },
  { value: "text", label: "Text" },
] as const;

/** One key's value: shown pretty-printed when it is JSON, edited, saved or deleted (with undo). */
export function ValueEditor(props: ValueEditorProps) {
  const { projectId, env, entryKey, onClose } = props;
  const value = useQuery({ queryKey: kvKeys.value(projectId, env, entryKey), queryFn: () => kvApi.get(projectId, env, entryKey) });
  return (
    <section aria-label={`Value of ${entryKey}`} className="flex min-h-0 flex-1 flex-col border-t border-border">
      <div className="flex items-center gap-2 px-3 pt-2">
        <h3 className="min-w-0 flex-1 truncate font-mono font-medium" data-testid="kv-selected-key">
          {entryKey}
        </h3>
        <Button variant="ghost" size="icon-sm" aria-label="Close the value" onClick={onClose}>
          <X />
        </Button>
      </div>
      {value.isPending && <Loading label="Loading the value" />}
      {value.isError && <ErrorState error={value.error} onRetry={() => void value.refetch()} />}
      {value.data && <Editor key={value.data.updated} {...props} stored={value.data} />}
    </section>
  );
}

function Editor({ projectId, env, entryKey, onClose, onChanged, stored }: ValueEditorProps & { stored: KvValue }) {
  const qc = useQueryClient();
  const shown = pretty(stored.value);
  const [mode, setMode] = useState<ValueMode>(shown === null ? "text" : "json");
  const [text, setText] = useState(shown ?? stored.value);
  const [invalid, setInvalid] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: (v: string) => kvApi.set(projectId, env, entryKey, v),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: kvKeys.value(projectId, env, entryKey) });
      onChanged();
      toast.success(`Saved ${entryKey}`);
    },
  });
  const remove = useMutation({
    mutationFn: () => kvApi.remove(projectId, env, entryKey),
    onSuccess: () => {
      onClose();
      onChanged();
      toast.success(`Deleted ${entryKey}`, {
        action: {
          label: "Undo",
          onClick: () =>
            void kvApi.set(projectId, env, entryKey, stored.value).then(
              () => onChanged(),
              (err: unknown) => toast.error(`Couldn't restore ${entryKey}`, { description: errorMessage(err) }),
            ),
        },
      });
    },
    onError: (err) => toast.error(`Couldn't delete ${entryKey}`, { description: errorMessage(err) }),
  });
  const submit = () => {
    const parsed = parseValue(text, mode);
    if (!parsed.ok) {
      setInvalid(parsed.error);
      return;
    }
    setInvalid(null);
    save.mutate(parsed.value);
  };
  const switchMode = (next: ValueMode) => {
    if (next === "json") {
      const p = pretty(text);
      if (p === null) {
        setInvalid("This text isn't JSON; it stays text.");
        return;
      }
      setText(p);
    }
    setInvalid(null);
    setMode(next);
  };
  const error = invalid ?? (save.isError ? errorMessage(save.error) : null);
  return (
    <form
      className="flex min-h-0 flex-1 flex-col gap-2 p-3 pt-1"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div className="flex flex-wrap items-center gap-2 text-xs text-muted-foreground">
        <Segmented label="Show the value as" value={mode} onChange={switchMode} options={modeOptions} />
        <span>
          {sizeText(stored.size)} · changed {timeAgo(stored.updated)}
        </span>
      </div>
      <textarea
        aria-label="Value"
        value={text}
        spellCheck={false}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if ((e.metaKey || e.ctrlKey) && e.key === "s") {
            e.preventDefault();
            e.stopPropagation();
            submit();
          }
        }}
        className="min-h-24 flex-1 resize-none rounded-md border border-input bg-background p-2 font-mono text-[13px] leading-5 text-foreground focus-visible:outline-2 focus-visible:outline-offset-0 focus-visible:outline-ring"
      />
      {error && (
        <p role="alert" className="text-xs text-destructive-text">
          {error}
        </p>
      )}
      <div className="flex items-center gap-2">
        <Button type="submit" variant="primary" size="sm" disabled={save.isPending}>
          {save.isPending ? <Spinner className="text-current" /> : <Save />} Save
        </Button>
        <Button
          type="button"
          variant="ghost"
          size="sm"
          className="ml-auto text-destructive-text"
          onClick={() => remove.mutate()}
          disabled={remove.isPending}
        >
          {remove.isPending ? <Spinner className="text-current" /> : <Trash2 />} Delete
        </Button>
      </div>
    </form>
  );
}
