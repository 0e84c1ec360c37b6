import { useQuery } from "@tanstack/react-query";
import { EyeOff, Plus, Save, Trash2 } from "lucide-react";
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { Button } from "@/components/ui/button";
import { Input, inputClass, Select } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { api } from "@/lib/api";
import { cn } from "@/lib/utils";
import { runnerLabels, type Assignment, type AssignmentInput, type IOCase, type LatePolicy, type RubricItem, type Runner, type TestFile } from "./api";
import { Markdown } from "./Markdown";

/** What the form edits: an assignment's fields, the starter's source only when creating. */
export interface Draft {
  title: string;
  instructions: string;
  source: "template" | "project";
  template: string;
  projectId: string;
  runner: Runner;
  command: string;
  tests: TestFile[];
  cases: IOCase[];
  rubric: RubricItem[];
  points: number;
  /** A datetime-local value ("" for none). */
  due: string;
  latePolicy: LatePolicy;
  maxSubmissions: number;
  cpuSeconds: number;
  wallSeconds: number;
  memoryMB: number;
  published: boolean;
}

export const newDraft = (): Draft => ({
  title: "",
  instructions: "",
  source: "template",
  template: "python",
  projectId: "",
  runner: "pytest",
  command: "",
  tests: [{ path: "test_main.py", content: "", hidden: false }],
  cases: [],
  rubric: [],
  points: 100,
  due: "",
  latePolicy: { kind: "none", percentPerDay: 10, maxDays: 3 },
  maxSubmissions: 0,
  cpuSeconds: 5,
  wallSeconds: 10,
  memoryMB: 128,
  published: false,
});

const pad = (n: number) => String(n).padStart(2, "0");
function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export const draftOf = (a: Assignment): Draft => ({
  ...newDraft(),
  title: a.title,
  instructions: a.instructions,
  runner: a.runner,
  command: a.command,
  tests: a.tests ?? [],
  cases: a.cases ?? [],
  rubric: a.rubric ?? [],
  points: a.points,
  due: a.dueAt === null ? "" : toLocalInput(a.dueAt),
  latePolicy: a.latePolicy,
  maxSubmissions: a.maxSubmissions,
  cpuSeconds: a.limits.cpuSeconds,
  wallSeconds: a.limits.wallSeconds,
  memoryMB: a.limits.memoryMB,
  published: a.published,
});

/** The request body; creating adds where the starter comes from. */
export function inputOf(d: Draft, creating: boolean): AssignmentInput {
  const io = d.runner === "io";
  return {
    title: d.title.trim(),
    instructions: d.instructions,
    ...(creating && (d.source === "project" ? { projectId: d.projectId } : { template: d.template })),
    runner: d.runner,
    command: io ? d.command.trim() : "",
    tests: io ? [] : d.tests.filter((t) => t.path.trim()).map((t) => ({ ...t, path: t.path.trim() })),
    cases: io ? d.cases : [],
    rubric: d.rubric.filter((r) => r.title.trim()),
    points: d.points,
    dueAt: d.due ? new Date(d.due).getTime() : null,
    latePolicy: d.latePolicy,
    maxSubmissions: d.maxSubmissions,
    limits: { cpuSeconds: d.cpuSeconds, wallSeconds: d.wallSeconds, memoryMB: d.memoryMB },
    published: d.published,
  };
}

// crypto.randomUUID needs a secure context; a server on a LAN address over http is not one.
const rubricId = () => Math.random().toString(36).slice(2, 10);

const sectionClass = "grid gap-4 rounded-lg border border-border bg-panel p-5";
const textareaClass = cn(inputClass, "h-auto py-2 font-mono text-[13px]");

function Section({ title, hint, children }: { title: string; hint?: ReactNode; children: ReactNode }) {
  const id = useId();
  return (
    <section aria-labelledby={id} className={sectionClass}>
      <div>
        <h2 id={id} className="text-base font-semibold">
          {title}
        </h2>
        {hint && <p className="text-[13px] text-muted-foreground">{hint}</p>}
      </div>
      {children}
    </section>
  );
}

function NumberField({ label, value, onChange, min = 0, step = 1, hint }: { label: string; value: number; onChange: (n: number) => void; min?: number; step?: number; hint?: string }) {
  const id = useId();
  return (
    <div className="grid gap-1.5">
      <Label htmlFor={id}>{label}</Label>
      <Input id={id} type="number" min={min} step={step} value={value} onChange={(e) => onChange(Number(e.target.value))} className="w-32" />
      {hint && <p className="text-xs text-muted-foreground">{hint}</p>}
    </div>
  );
}

const defaultTestPath: Record<Runner, string> = {
  pytest: "test_main.py",
  unittest: "test_main.py",
  node: "main.test.js",
  jest: "main.test.js",
  go: "main_test.go",
  io: "",
};

// Named so each runner finds them as it finds the visible ones.
const hiddenTestPath: Record<Runner, string> = {
  pytest: "test_hidden.py",
  unittest: "test_hidden.py",
  node: "hidden.test.js",
  jest: "hidden.test.js",
  go: "hidden_test.go",
  io: "",
};

interface FormProps {
  initial: Draft;
  creating: boolean;
  /** TAs read the settings; only teachers change them. */
  readOnly: boolean;
  saving: boolean;
  error: string | null;
  onSave: (input: AssignmentInput) => void;
  extra?: ReactNode;
}

/** The assignment's instructions, tests (visible and hidden), rubric, due date, late policy, limits and publishing. */
export function AssignmentForm({ initial, creating, readOnly, saving, error, onSave, extra }: FormProps) {
  const [d, setD] = useState(initial);
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setD((prev) => ({ ...prev, [key]: value }));
  const [preview, setPreview] = useState(false);
  const templates = useQuery({ queryKey: ["templates"], queryFn: api.templates, enabled: creating });
  const projects = useQuery({ queryKey: ["projects"], queryFn: api.listProjects, enabled: creating && d.source === "project" });
  const ids = { title: useId(), instructions: useId(), runner: useId(), command: useId(), source: useId(), late: useId(), due: useId() };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!readOnly && d.title.trim()) onSave(inputOf(d, creating));
  };
  const setTest = (i: number, patch: Partial<TestFile>) => set("tests", d.tests.map((t, k) => (k === i ? { ...t, ...patch } : t)));
  const setCase = (i: number, patch: Partial<IOCase>) => set("cases", d.cases.map((c, k) => (k === i ? { ...c, ...patch } : c)));
  const setRubric = (i: number, patch: Partial<RubricItem>) => set("rubric", d.rubric.map((r, k) => (k === i ? { ...r, ...patch } : r)));
  const io = d.runner === "io";

  return (
    <form onSubmit={submit} className="grid gap-6" aria-label="Assignment settings">
      <fieldset disabled={readOnly} className="grid gap-6">
        <Section title="Assignment">
          <div className="grid gap-1.5">
            <Label htmlFor={ids.title}>Title</Label>
            <Input id={ids.title} value={d.title} onChange={(e) => set("title", e.target.value)} required placeholder="Fix the adder" />
          </div>
          <div className="grid gap-1.5">
            <div className="flex items-center justify-between">
              <Label htmlFor={ids.instructions}>Instructions (Markdown)</Label>
              <Button variant="ghost" size="sm" onClick={() => setPreview((p) => !p)} aria-pressed={preview}>
                {preview ? "Edit" : "Preview"}
              </Button>
            </div>
            {preview ? (
              <div className="min-h-32 rounded-md border border-border p-3">
                <Markdown source={d.instructions} />
              </div>
            ) : (
              <textarea
                id={ids.instructions}
                rows={8}
                className={textareaClass}
                value={d.instructions}
                onChange={(e) => set("instructions", e.target.value)}
                placeholder={"# What to do\n\nMake `add(a, b)` in main.py return the sum."}
              />
            )}
          </div>
          {creating && (
            <div className="grid gap-2">
              <Label htmlFor={ids.source}>Starter project</Label>
              <div className="flex flex-wrap gap-2">
                <Select id={ids.source} className="w-48" value={d.source} onChange={(e) => set("source", e.target.value as Draft["source"])}>
                  <option value="template">From a template</option>
                  <option value="project">Copy of my project</option>
                </Select>
                {d.source === "template" ? (
                  <Select aria-label="Template" className="w-56" value={d.template} onChange={(e) => set("template", e.target.value)}>
                    {(templates.data ?? [{ id: d.template, name: d.template }]).map((t) => (
                      <option key={t.id} value={t.id}>
                        {t.name}
                      </option>
                    ))}
                  </Select>
                ) : (
                  <Select aria-label="Project" className="w-56" value={d.projectId} onChange={(e) => set("projectId", e.target.value)} required>
                    <option value="">Pick a project…</option>
                    {(projects.data ?? []).map((p) => (
                      <option key={p.id} value={p.id}>
                        @{p.owner}/{p.slug}
                      </option>
                    ))}
                  </Select>
                )}
              </div>
              <p className="text-xs text-muted-foreground">Each student starts from their own copy. Visible test files are written into it.</p>
            </div>
          )}
        </Section>

        <Section title="Tests" hint="Visible tests are in the students' files and run with Check. Hidden tests stay with the course and run only when grading.">
          <div className="flex flex-wrap items-start gap-4">
            <div className="grid gap-1.5">
              <Label htmlFor={ids.runner}>Runner</Label>
              <Select
                id={ids.runner}
                className="w-60"
                value={d.runner}
                onChange={(e) => {
                  const runner = e.target.value as Runner;
                  setD((prev) => ({
                    ...prev,
                    runner,
                    tests: prev.tests.map((t) =>
                      t.path === defaultTestPath[prev.runner]
                        ? { ...t, path: defaultTestPath[runner] }
                        : t.path === hiddenTestPath[prev.runner]
                          ? { ...t, path: hiddenTestPath[runner] }
                          : t,
                    ),
                  }));
                }}
              >
                {(Object.keys(runnerLabels) as Runner[]).map((r) => (
                  <option key={r} value={r}>
                    {runnerLabels[r]}
                  </option>
                ))}
              </Select>
            </div>
            <NumberField label="Points" value={d.points} onChange={(n) => set("points", n)} hint="For the tests; shared by weight" />
            {io && (
              <div className="grid min-w-48 flex-1 gap-1.5">
                <Label htmlFor={ids.command}>Command</Label>
                <Input id={ids.command} className="font-mono" value={d.command} onChange={(e) => set("command", e.target.value)} placeholder="python3 main.py" />
              </div>
            )}
          </div>
          {!io && (
            <div className="grid gap-3">
              {d.tests.map((t, i) => (
                <div key={i} className={cn("grid gap-2 rounded-md border p-3", t.hidden ? "border-warning/50" : "border-border")} data-testid="test-file">
                  <div className="flex flex-wrap items-center gap-2">
                    <Input aria-label={`Test file ${i + 1} path`} className="w-64 font-mono" value={t.path} onChange={(e) => setTest(i, { path: e.target.value })} placeholder="tests/test_main.py" />
                    <label className="flex items-center gap-1.5 text-[13px]">
                      <input type="checkbox" checked={t.hidden} onChange={(e) => setTest(i, { hidden: e.target.checked })} aria-label={`Test file ${i + 1} hidden`} />
                      <EyeOff className="size-3.5 text-muted-foreground" aria-hidden /> Hidden
                    </label>
                    <Button variant="ghost" size="icon-sm" className="ml-auto" aria-label={`Remove test file ${i + 1}`} onClick={() => set("tests", d.tests.filter((_, k) => k !== i))}>
                      <Trash2 />
                    </Button>
                  </div>
                  <textarea
                    aria-label={`Test file ${i + 1} content`}
                    rows={8}
                    className={textareaClass}
                    value={t.content}
                    spellCheck={false}
                    onChange={(e) => setTest(i, { content: e.target.value })}
                  />
                </div>
              ))}
              <div className="flex gap-2">
                <Button size="sm" onClick={() => set("tests", [...d.tests, { path: defaultTestPath[d.runner], content: "", hidden: false }])}>
                  <Plus /> Visible test file
                </Button>
                <Button size="sm" onClick={() => set("tests", [...d.tests, { path: hiddenTestPath[d.runner], content: "", hidden: true }])}>
                  <EyeOff /> Hidden test file
                </Button>
              </div>
            </div>
          )}
          {io && (
            <div className="grid gap-3">
              {d.cases.map((c, i) => (
                <div key={i} className={cn("grid gap-2 rounded-md border p-3", c.hidden ? "border-warning/50" : "border-border")} data-testid="io-case">
                  <div className="flex flex-wrap items-center gap-2">
                    <Input aria-label={`Case ${i + 1} name`} className="w-56" value={c.name} onChange={(e) => setCase(i, { name: e.target.value })} placeholder="adds two numbers" />
                    <Input aria-label={`Case ${i + 1} points`} type="number" min={0} className="w-24" value={c.points} onChange={(e) => setCase(i, { points: Number(e.target.value) })} />
                    <label className="flex items-center gap-1.5 text-[13px]">
                      <input type="checkbox" checked={c.hidden} onChange={(e) => setCase(i, { hidden: e.target.checked })} aria-label={`Case ${i + 1} hidden`} />
                      <EyeOff className="size-3.5 text-muted-foreground" aria-hidden /> Hidden
                    </label>
                    <Button variant="ghost" size="icon-sm" className="ml-auto" aria-label={`Remove case ${i + 1}`} onClick={() => set("cases", d.cases.filter((_, k) => k !== i))}>
                      <Trash2 />
                    </Button>
                  </div>
                  <div className="grid gap-2 sm:grid-cols-2">
                    <textarea aria-label={`Case ${i + 1} input`} rows={3} className={textareaClass} value={c.stdin} placeholder="Input" onChange={(e) => setCase(i, { stdin: e.target.value })} />
                    <textarea aria-label={`Case ${i + 1} expected output`} rows={3} className={textareaClass} value={c.stdout} placeholder="Expected output" onChange={(e) => setCase(i, { stdout: e.target.value })} />
                  </div>
                </div>
              ))}
              <div>
                <Button size="sm" onClick={() => set("cases", [...d.cases, { name: `case ${d.cases.length + 1}`, stdin: "", stdout: "", hidden: false, points: 1 }])}>
                  <Plus /> Case
                </Button>
              </div>
            </div>
          )}
        </Section>

        <Section title="Rubric" hint="Points graded by hand, on top of the tests'.">
          {d.rubric.map((r, i) => (
            <div key={i} className="flex flex-wrap items-center gap-2">
              <Input aria-label={`Rubric row ${i + 1} title`} className="min-w-48 flex-1" value={r.title} onChange={(e) => setRubric(i, { title: e.target.value })} placeholder="Readable code" />
              <Input aria-label={`Rubric row ${i + 1} points`} type="number" min={0} className="w-24" value={r.points} onChange={(e) => setRubric(i, { points: Number(e.target.value) })} />
              <Button variant="ghost" size="icon-sm" aria-label={`Remove rubric row ${i + 1}`} onClick={() => set("rubric", d.rubric.filter((_, k) => k !== i))}>
                <Trash2 />
              </Button>
            </div>
          ))}
          <div>
            <Button size="sm" onClick={() => set("rubric", [...d.rubric, { id: rubricId(), title: "", points: 10 }])}>
              <Plus /> Rubric row
            </Button>
          </div>
        </Section>

        <Section title="Due date and submissions">
          <div className="flex flex-wrap items-start gap-4">
            <div className="grid gap-1.5">
              <Label htmlFor={ids.due}>Due</Label>
              <Input id={ids.due} type="datetime-local" className="w-60" value={d.due} onChange={(e) => set("due", e.target.value)} />
            </div>
            <div className="grid gap-1.5">
              <Label htmlFor={ids.late}>Late work</Label>
              <Select id={ids.late} className="w-56" value={d.latePolicy.kind} onChange={(e) => set("latePolicy", { ...d.latePolicy, kind: e.target.value as LatePolicy["kind"] })}>
                <option value="none">Accepted, no penalty</option>
                <option value="penalty">Accepted with a penalty</option>
                <option value="reject">Refused after the due date</option>
              </Select>
            </div>
            {d.latePolicy.kind === "penalty" && (
              <>
                <NumberField label="% off per day" value={d.latePolicy.percentPerDay} onChange={(n) => set("latePolicy", { ...d.latePolicy, percentPerDay: n })} />
                <NumberField label="Up to days" value={d.latePolicy.maxDays} onChange={(n) => set("latePolicy", { ...d.latePolicy, maxDays: n })} hint="Refused after" />
              </>
            )}
            <NumberField label="Max submissions" value={d.maxSubmissions} onChange={(n) => set("maxSubmissions", n)} hint="0: unlimited" />
          </div>
        </Section>

        <Section title="Grading limits" hint="Each run gets a fresh sandbox without network, held to these.">
          <div className="flex flex-wrap gap-4">
            <NumberField label="CPU seconds" value={d.cpuSeconds} min={1} onChange={(n) => set("cpuSeconds", n)} />
            <NumberField label="Wall seconds" value={d.wallSeconds} min={1} onChange={(n) => set("wallSeconds", n)} />
            <NumberField label="Memory (MB)" value={d.memoryMB} min={16} onChange={(n) => set("memoryMB", n)} />
          </div>
        </Section>

        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={d.published} onChange={(e) => set("published", e.target.checked)} />
          Published: students see it and can start
        </label>
      </fieldset>
      {error && (
        <p role="alert" className="text-[13px] text-destructive-text">
          {error}
        </p>
      )}
      {!readOnly && (
        <div className="flex flex-wrap items-center gap-2">
          <Button type="submit" variant="primary" disabled={saving || !d.title.trim()}>
            <Save /> {creating ? "Create assignment" : "Save changes"}
          </Button>
          {extra}
        </div>
      )}
    </form>
  );
}
