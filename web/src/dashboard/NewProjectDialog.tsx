import { useIsMutating, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { AlertCircle, GitBranch, LayoutGrid, Search, X } from "lucide-react";
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { Link, useNavigate } from "react-router";
import { useMe } from "@/auth/session";
import { Button } from "@/components/ui/button";
import { Dialog, DialogContent, DialogFooter } from "@/components/ui/dialog";
import { Field } from "@/components/ui/field";
import { Input, Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Spinner } from "@/components/ui/spinner";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { api, ApiError, errorMessage, type Template, type Visibility } from "@/lib/api";
import { creatableIn, teamsQuery } from "@/teams/teams";
import { displayGitUrl, gitUrlProblem, isSSHUrl, repoNameFromUrl } from "./gitUrl";
import { projectsQuery, templatesQuery } from "./projects";
import { filterTemplates, TemplateGallery } from "./TemplateGallery";

const createKey = ["create-project"];

interface NewProjectDialogProps {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  /** The team to create it in at first (the person may still pick themselves or another team). */
  owner?: string;
}

export function NewProjectDialog({ open, onOpenChange, owner }: NewProjectDialogProps) {
  // While a project is being created (a clone can take a while) the dialog stays open.
  const busy = useIsMutating({ mutationKey: createKey }) > 0;
  return (
    <Dialog
      open={open}
      onOpenChange={(next) => {
        if (next || !busy) onOpenChange(next);
      }}
    >
      {open && <NewProjectForm busy={busy} initialOwner={owner} onCancel={() => onOpenChange(false)} />}
    </Dialog>
  );
}

type Mode = "template" | "git";

/** Server error codes that are about the repository address (invalid_git_url, repo_not_found, repo_unreachable, ...). */
function isUrlError(err: unknown): boolean {
  return (
    err instanceof ApiError &&
    (err.code === "invalid_git_url" ||
      err.code.startsWith("repo_") ||
      err.code === "address_refused" ||
      (err.code.startsWith("git_") && err.code !== "git_import_unavailable") ||
      err.code.startsWith("clone_"))
  );
}

/** Errors the person fixes with their SSH key, in Settings. */
function isKeyError(err: unknown): boolean {
  return err instanceof ApiError && (err.code === "no_ssh_key" || err.code === "ssh_key_refused");
}

function SSHKeyLink({ children }: { children: string }) {
  return (
    <Link to="/settings#ssh-key" target="_blank" className="text-link underline-offset-4 hover:underline">
      {children}
    </Link>
  );
}

function isNameError(err: unknown): boolean {
  return err instanceof ApiError && (err.code === "project_exists" || err.code.startsWith("invalid_name"));
}

/** Node.js when the server has it, else the first template with something to run (Blank has nothing). */
function defaultTemplate(templates: Template[]): string {
  return (templates.find((t) => t.id === "node") ?? templates.find((t) => t.language !== "text") ?? templates[0])?.id ?? "";
}

function NewProjectForm({ busy, initialOwner = "", onCancel }: { busy: boolean; initialOwner?: string; onCancel: () => void }) {
  const templates = useQuery(templatesQuery);
  const me = useMe().data;
  // Where the project goes: "" for the person themselves, or a team they may create projects in.
  const [owner, setOwner] = useState(initialOwner);
  const teams = useQuery(teamsQuery);
  const teamNames = creatableIn(teams.data);
  if (initialOwner && !teamNames.includes(initialOwner)) teamNames.unshift(initialOwner);
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [mode, setMode] = useState<Mode>("template");
  const [name, setName] = useState("");
  // Whether the person typed the name themselves; until then an import names itself after the repository.
  const [nameEdited, setNameEdited] = useState(false);
  const [template, setTemplate] = useState<string>("");
  const [query, setQuery] = useState("");
  const [gitUrl, setGitUrl] = useState("");
  const [urlError, setUrlError] = useState<string | null>(null);
  const [visibility, setVisibility] = useState<Visibility>("private");
  const [nameError, setNameError] = useState<string | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);
  const urlRef = useRef<HTMLInputElement>(null);
  const nameRef = useRef<HTMLInputElement>(null);

  // A runnable template is the default, so the form can be submitted right away and Run works.
  const chosen = template || defaultTemplate(templates.data ?? []);
  const shown = filterTemplates(templates.data ?? [], query);
  const chosenHidden = !!query && shown.length > 0 && !shown.some((t) => t.id === chosen);

  const create = useMutation({
    mutationKey: createKey,
    mutationFn: (input: { name: string; template?: string; gitUrl?: string }) =>
      api.createProject({ ...input, visibility, ...(owner && { owner }) }),
    onSuccess: (project) => {
      void qc.invalidateQueries({ queryKey: projectsQuery.queryKey });
      navigate(project.url);
    },
    onError: (err) => {
      if (isNameError(err)) setNameError(err.message);
    },
  });
  const importing = create.isPending && create.variables?.gitUrl !== undefined;

  // After a failed attempt, put the cursor where the fix goes (the fields were disabled meanwhile).
  const failure = create.error;
  useEffect(() => {
    if (!failure) return;
    if (isNameError(failure)) nameRef.current?.focus();
    else if (isUrlError(failure)) urlRef.current?.focus();
  }, [failure]);

  function changeMode(next: string) {
    setMode(next as Mode);
    create.reset();
    setNameError(null);
    if (next === "git" && !nameEdited) setName(repoNameFromUrl(gitUrl));
    if (next === "template" && !nameEdited) setName("");
  }

  function changeUrl(value: string) {
    setGitUrl(value);
    setUrlError(null);
    if (create.isError) create.reset();
    if (!nameEdited) {
      setName(repoNameFromUrl(value));
      setNameError(null);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (create.isPending) return;
    let problem = false;
    if (mode === "git") {
      const p = gitUrlProblem(gitUrl);
      if (p) {
        setUrlError(p);
        urlRef.current?.focus();
        problem = true;
      }
    }
    const n = name.trim();
    const np = !n ? "Give your project a name." : n.length > 64 ? "Use at most 64 characters." : null;
    if (np) {
      setNameError(np);
      if (!problem) nameRef.current?.focus();
      problem = true;
    }
    if (problem) return;
    create.mutate(mode === "git" ? { name: n, gitUrl: gitUrl.trim() } : { name: n, template: chosen || undefined });
  }

  function searchKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    // Enter picks the first match rather than submitting the form half filled in.
    if (e.key === "Enter") {
      e.preventDefault();
      if (shown[0]) setTemplate(shown[0].id);
    }
  }

  const serverError = create.isError && !isNameError(create.error) ? create.error : null;
  const errorBox = serverError && (
    <div
      role="alert"
      className="flex items-start gap-2 rounded-md border border-destructive-text/40 bg-destructive/10 px-3 py-2 text-[13px]"
    >
      <AlertCircle className="mt-0.5 size-4 shrink-0 text-destructive-text" aria-hidden="true" />
      <div className="grid gap-1">
        <p className="text-foreground">{errorMessage(serverError)}</p>
        {mode === "git" && isUrlError(serverError) && (
          <p className="text-xs text-muted-foreground">
            Check the address and that the repository is public, then try again.
          </p>
        )}
        {isKeyError(serverError) && (
          <p className="text-xs text-muted-foreground">
            <SSHKeyLink>Open your SSH key in Settings</SSHKeyLink>, add it to the git host, then try again.
          </p>
        )}
        {serverError instanceof ApiError && serverError.code === "git_import_unavailable" && (
          <Button variant="link" size="sm" className="h-auto justify-self-start p-0" onClick={() => changeMode("template")}>
            Start from a template instead
          </Button>
        )}
      </div>
    </div>
  );

  return (
    <DialogContent
      title="New project"
      description="Start from a template or import a git repository. You can change everything later."
      className="max-h-[calc(100dvh-2rem)] max-w-2xl grid-rows-[auto_minmax(0,1fr)] overflow-hidden"
      onOpenAutoFocus={(e) => {
        e.preventDefault();
        searchRef.current?.focus();
      }}
      onEscapeKeyDown={(e) => {
        if (busy) e.preventDefault();
        else if (query && document.activeElement === searchRef.current) {
          // Escape in the search box clears it first.
          e.preventDefault();
          setQuery("");
        }
      }}
      onInteractOutside={(e) => busy && e.preventDefault()}
    >
      <form onSubmit={submit} className="flex min-h-0 flex-col gap-4" noValidate aria-busy={create.isPending}>
        <fieldset disabled={create.isPending} className="flex min-h-0 min-w-0 flex-col gap-4">
          <Tabs value={mode} onValueChange={changeMode} className="flex min-h-0 flex-col gap-3">
            <TabsList
              aria-label="How to start"
              className="h-auto w-fit gap-0.5 self-start rounded-md border border-border bg-muted p-0.5"
            >
              <TabsTrigger
                value="template"
                className="rounded border-b-0 px-3 py-1.5 data-[state=active]:bg-background data-[state=active]:shadow-sm"
              >
                <LayoutGrid aria-hidden="true" /> Template
              </TabsTrigger>
              <TabsTrigger
                value="git"
                className="rounded border-b-0 px-3 py-1.5 data-[state=active]:bg-background data-[state=active]:shadow-sm"
              >
                <GitBranch aria-hidden="true" /> Import from git
              </TabsTrigger>
            </TabsList>

            <TabsContent value="template" className="flex min-h-0 flex-col gap-2">
              <div className="relative">
                <Search
                  className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-muted-foreground"
                  aria-hidden="true"
                />
                <Input
                  ref={searchRef}
                  type="search"
                  aria-label="Search templates"
                  placeholder="Search templates: react, api, python…"
                  autoComplete="off"
                  spellCheck={false}
                  value={query}
                  onChange={(e) => setQuery(e.target.value)}
                  onKeyDown={searchKeyDown}
                  className="pl-8"
                />
              </div>
              {templates.isPending && <Spinner label="Loading templates" />}
              {templates.isError && (
                <p role="alert" className="text-xs text-destructive-text">
                  Couldn't load templates: {errorMessage(templates.error)}{" "}
                  <Button variant="link" size="sm" onClick={() => void templates.refetch()}>
                    Retry
                  </Button>
                </p>
              )}
              {templates.data && shown.length === 0 && (
                <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed border-border py-8 text-[13px] text-muted-foreground">
                  <p>No templates match “{query.trim()}”.</p>
                  <Button variant="ghost" size="sm" onClick={() => setQuery("")}>
                    <X /> Clear search
                  </Button>
                </div>
              )}
              {shown.length > 0 && (
                <div className="-m-1 min-h-0 overflow-y-auto p-1 sm:max-h-[min(24rem,50dvh)]">
                  <TemplateGallery templates={shown} value={chosen} onValueChange={setTemplate} />
                </div>
              )}
              {chosenHidden && (
                <p className="text-xs text-muted-foreground">
                  Your choice, {templates.data?.find((t) => t.id === chosen)?.name}, is hidden by the search.
                </p>
              )}
            </TabsContent>

            <TabsContent value="git" className="grid gap-3">
              <Field
                ref={urlRef}
                label="Repository URL"
                name="gitUrl"
                type="url"
                inputMode="url"
                autoComplete="off"
                spellCheck={false}
                placeholder="https://github.com/owner/repo.git"
                value={gitUrl}
                error={urlError}
                aria-invalid={urlError || isUrlError(serverError) ? true : undefined}
                hint="An https:// or ssh:// address. The repository's files and history become the new project."
                onChange={(e) => changeUrl(e.target.value)}
                onBlur={() => gitUrl.trim() && setUrlError(gitUrlProblem(gitUrl))}
              />
              {isSSHUrl(gitUrl) && (
                <p className="text-xs text-muted-foreground">
                  E-Code clones ssh addresses with your own SSH key: <SSHKeyLink>see it in Settings</SSHKeyLink> and add it
                  to the git host first.
                </p>
              )}
            </TabsContent>
          </Tabs>

          <div className="grid gap-4 sm:grid-cols-2">
            {teamNames.length > 0 && (
              <div className="grid content-start gap-1.5">
                <Label htmlFor="new-project-owner">Owner</Label>
                <Select id="new-project-owner" value={owner} onChange={(e) => setOwner(e.target.value)}>
                  <option value="">{me ? `${me.username} (you)` : "You"}</option>
                  {teamNames.map((t) => (
                    <option key={t} value={t}>
                      @{t} (team)
                    </option>
                  ))}
                </Select>
              </div>
            )}
            <Field
              ref={nameRef}
              label="Name"
              name="name"
              autoComplete="off"
              placeholder={mode === "git" ? "The repository's name" : "my-app"}
              value={name}
              error={nameError}
              onChange={(e) => {
                setName(e.target.value);
                setNameEdited(e.target.value !== "");
                setNameError(null);
              }}
            />
            <div className="grid content-start gap-1.5">
              <Label htmlFor="new-project-visibility">Visibility</Label>
              <Select
                id="new-project-visibility"
                value={visibility}
                onChange={(e) => setVisibility(e.target.value as Visibility)}
              >
                <option value="private">{`Private — only ${owner ? "the team" : "you"} can see it`}</option>
                <option value="public">Public — anyone with the link can view it</option>
              </Select>
            </div>
          </div>
        </fieldset>

        {importing && (
          <div
            role="status"
            className="flex items-center gap-2 rounded-md border border-border bg-muted/60 px-3 py-2 text-[13px]"
          >
            <Spinner className="text-foreground" />
            <span className="min-w-0 flex-1 truncate">
              Cloning <span className="font-mono text-xs">{displayGitUrl(create.variables?.gitUrl ?? "")}</span> with
              its history…
            </span>
            <Elapsed since={create.submittedAt} />
          </div>
        )}
        {errorBox}

        <DialogFooter>
          <Button variant="ghost" onClick={onCancel} disabled={create.isPending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" disabled={create.isPending}>
            {create.isPending && <Spinner className="text-current" />}
            {importing ? "Cloning…" : mode === "git" ? "Import project" : "Create project"}
          </Button>
        </DialogFooter>
      </form>
    </DialogContent>
  );
}

/** Seconds since a moment, ticking. */
function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const s = Math.max(0, Math.floor((now - since) / 1000));
  return <span className="shrink-0 text-xs text-muted-foreground tabular-nums">{s}s</span>;
}
