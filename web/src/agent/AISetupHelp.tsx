const Env = ({ children }: { children: string }) => <code className="font-mono text-xs text-foreground">{children}</code>;

/** How the server's owner turns the AI on: what to set, then restart. Shown wherever AI would be. */
export function AISetupHelp() {
  return (
    <div className="grid gap-2 text-left text-[13px] text-muted-foreground" data-testid="ai-setup">
      <p>
        The AI agent and code completion need a model. Whoever runs this E-Code server sets{" "}
        <Env>ECODE_ANTHROPIC_API_KEY</Env> (or <Env>ANTHROPIC_API_KEY</Env>) and restarts it.
      </p>
      <ul className="grid list-disc gap-1 pl-5">
        <li>
          <Env>ECODE_AI_MODEL</Env> picks the model (optional).
        </li>
        <li>
          <Env>ECODE_ANTHROPIC_BASE_URL</Env> points it at any Anthropic-compatible endpoint instead: Ollama, vLLM or
          OpenRouter.
        </li>
        <li>
          For an OpenAI-compatible Chat Completions API instead, set <Env>ECODE_OPENAI_BASE_URL</Env>,{" "}
          <Env>ECODE_OPENAI_API_KEY</Env> (when it needs one) and <Env>ECODE_AI_MODEL</Env>.
        </li>
      </ul>
    </div>
  );
}
