import { Bot, Code2, Play, Sparkles, Users } from "lucide-react";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router";
import { Logo } from "@/components/Logo";
import { Button, buttonVariants } from "@/components/ui/button";
import { inputClass } from "@/components/ui/input";
import { cn } from "@/lib/utils";
import { buildAfterSignIn, keepPrompt } from "./pendingBuild";

const capabilities = [
  { icon: Code2, title: "Code in the browser", text: "An editor with completions, a file tree and a shell, from a template or a git repository." },
  { icon: Play, title: "Run it, see it live", text: "One Run button starts your app in a sandbox; its preview has a URL of its own." },
  { icon: Bot, title: "Build with AI", text: "Describe an app: the agent writes the files, runs it and shows each step." },
  { icon: Users, title: "Work together", text: "Invite people to edit live with you, or share a project read only." },
];

/** What people who are not signed in see at /: what E-Code is, and the ways in. */
export function LandingPage() {
  const navigate = useNavigate();
  const [prompt, setPrompt] = useState("");

  function build(e: FormEvent) {
    e.preventDefault();
    keepPrompt(prompt.trim());
    navigate(`/signup?next=${encodeURIComponent(buildAfterSignIn)}`);
  }

  return (
    <div className="min-h-full">
      <header className="mx-auto flex max-w-5xl items-center justify-between gap-4 px-6 py-4">
        <Logo className="text-base" />
        <nav aria-label="Account" className="flex items-center gap-2">
          <Link to="/login" className={buttonVariants({ variant: "ghost" })}>
            Log in
          </Link>
          <Link to="/signup" className={buttonVariants({ variant: "primary" })}>
            Sign up
          </Link>
        </nav>
      </header>
      <main className="mx-auto grid max-w-5xl gap-12 px-6 pt-10 pb-16">
        <section aria-labelledby="landing-title" className="grid max-w-2xl gap-4">
          <h1 id="landing-title" className="text-3xl font-semibold tracking-tight text-balance">
            Write, run and share code from your browser.
          </h1>
          <p className="text-base text-muted-foreground">
            E-Code is a development platform you host yourself: projects, a live editor, sandboxed runs with previews,
            and an AI agent, on your own server.
          </p>
          <form onSubmit={build} className="mt-2 grid gap-2 rounded-lg border border-border bg-panel p-3">
            <label htmlFor="landing-prompt" className="text-[13px] font-medium">
              Describe an app and let the agent build it
            </label>
            <textarea
              id="landing-prompt"
              rows={3}
              value={prompt}
              onChange={(e) => setPrompt(e.target.value)}
              placeholder="A to-do list with a JSON API and a small web page"
              className={cn(inputClass, "h-auto min-h-16 resize-y py-2 text-[13px] leading-relaxed")}
            />
            <div className="flex flex-wrap items-center justify-between gap-2">
              <p className="text-xs text-muted-foreground">You'll create an account first; your description is kept.</p>
              <Button type="submit" variant="primary">
                <Sparkles /> Build with AI
              </Button>
            </div>
          </form>
        </section>
        <section aria-labelledby="landing-capabilities">
          <h2 id="landing-capabilities" className="sr-only">
            What you can do
          </h2>
          <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
            {capabilities.map(({ icon: Icon, title, text }) => (
              <li key={title} className="grid content-start gap-2 rounded-lg border border-border bg-panel p-4">
                <Icon className="size-5 text-primary" aria-hidden />
                <h3 className="text-sm font-semibold">{title}</h3>
                <p className="text-[13px] text-muted-foreground">{text}</p>
              </li>
            ))}
          </ul>
        </section>
      </main>
    </div>
  );
}
