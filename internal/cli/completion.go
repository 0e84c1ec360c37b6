package cli

import (
	"github.com/spf13/cobra"
)

func (a *app) completionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Print the shell completion script",
		Long: `Print the script that completes ecode's commands, flags and project
names in bash, zsh or fish. Load it in your shell's startup file.`,
		Example: `  # bash (~/.bashrc):
  source <(ecode completion bash)
  # zsh (~/.zshrc, after compinit):
  source <(ecode completion zsh)
  # fish:
  ecode completion fish > ~/.config/fish/completions/ecode.fish`,
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args:      args(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), a.env.Stdout
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			}
			return usageErrorf("no completion for %q; choose bash, zsh or fish", args[0])
		},
	}
}
