import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogFooter } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { api, ApiError, errorMessage, type Visibility } from "@/lib/api";
import { cn } from "@/lib/utils";
import { projectsQuery, templatesQuery } from "./projects";

export function NewProjectDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      {open && <NewProjectForm onCancel={() => onOpenChange(false)} />}
    </Dialog>
  );
}

function NewProjectForm({ onCancel }: { onCancel: () => void }) {
  const templates = useQuery(templatesQuery);
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const [template, setTemplate] = useState<string>("");
  const [visibility, setVisibility] = useState<Visibility>("private");
  const [nameError, setNameError] = useState<string | null>(null);

  // The first template is the default, so the form can be submitted right away.
  const chosen = template || templates.data?.[0]?.id || "";
  const create = useMutation({
    mutationFn: () => api.createProject({ name: name.trim(), template: chosen || undefined, visibility }),
    onSuccess: (project) => {
      void qc.invalidateQueries({ queryKey: projectsQuery.queryKey });
      navigate(project.url);
    },
    onError: (err) => {
      if (err instanceof ApiError && (err.code === "project_exists" || err.code.startsWith("invalid_name"))) {
        setNameError(err.message);
      }
    },
  });

  function submit(e: FormEvent) {
    e.preventDefault();
    const n = name.trim();
    if (!n) return setNameError("Give your project a name.");
    if (n.length > 64) return setNameError("Use at most 64 characters.");
    create.mutate();
  }


  return (
    <DialogContent title="New project" description="Start from a template. You can change everything later." className="max-w-lg">
      <form onSubmit={submit} className="grid gap-4" noValidate>
        <Field
          label="Name"
          name="name"
          autoFocus
          autoComplete="off"
          placeholder="my-app"
          value={name}
          error={nameError}
          onChange={(e) => {
            setName(e.target.value);
            setNameError(null);
          }}
        />
        <fieldset className="grid gap-1.5">
          <legend className="mb-1.5 text-[13px] font-medium">Template</legend>
          {templates.isPending && <Spinner label="Loading templates" />}
          {templates.isError && (
            <p role="alert" className="text-xs text-destructive-text">
              Couldn't load templates: {errorMessage(templates.error)}{" "}
              <Button variant="link" size="sm" onClick={() => void templates.refetch()}>
                Retry
              </Button>
            </p>
          )}
          <div role="radiogroup" aria-label="Template" className="grid max-h-64 gap-1.5 overflow-y-auto sm:grid-cols-2">
            {templates.data?.map((t) => (
              <label
                key={t.id}
                className={cn(
                  "flex cursor-pointer flex-col gap-0.5 rounded-md border border-border p-2.5 hover:bg-muted has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-ring",
                  chosen === t.id && "border-primary bg-accent",
                )}
              >
                <input
                  type="radio"
                  name="template"
                  value={t.id}
                  checked={chosen === t.id}
                  onChange={() => setTemplate(t.id)}
                  className="sr-only"
                />
                <span className="text-[13px] font-medium">{t.name}</span>
                <span className="text-xs text-muted-foreground">{t.description}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <div className="grid gap-1.5">
          <Label htmlFor="new-project-visibility">Visibility</Label>
          <Select
            id="new-project-visibility"
            value={visibility}
            onChange={(e) => setVisibility(e.target.value as Visibility)}
          >
            <option value="private">Private — only you can see it</option>
            <option value="public">Public — anyone with the link can view it</option>
          </Select>
        </div>
        {create.isError && !nameError && (
          <p role="alert" className="text-[13px] text-destructive-text">
            {errorMessage(create.error)}
          </p>
        )}
        <DialogFooter>
          <Button variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" disabled={create.isPending}>
            {create.isPending && <Spinner className="text-current" />}
            Create project
          </Button>
        </DialogFooter>
      </form>
    </DialogContent>
  );
}
