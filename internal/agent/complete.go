package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	"ecode/internal/access"
	"ecode/internal/auth"
	"ecode/internal/errs"
	"ecode/internal/project"
)

const completionSystem = `You complete code in an editor. You get a file's path, the text before the cursor and the text after it. Answer with only the text to insert at the cursor: no explanations, no code fences, nothing already there. Keep it short: the rest of the line, or a few lines that finish the current statement or block. Answer with nothing when nothing fits.`

// Limits of what a completion request may carry.
const (
	maxPrefix = 16 << 10
	maxSuffix = 8 << 10
)

// Complete suggests the text to insert between prefix and suffix.
func (s *Service) Complete(ctx context.Context, actor *auth.User, projectID, path, prefix, suffix string) (string, error) {
	if s.model == nil {
		return "", errNotConfigured
	}
	p, err := s.projects.Get(ctx, actor, projectID, access.Write)
	if err != nil {
		return "", err
	}
	if path, err = project.CleanPath(path); err != nil {
		return "", err
	}
	if len(prefix) > maxPrefix || len(suffix) > maxSuffix {
		return "", errs.Invalid("too_much_context", "Send at most 16 KB before the cursor and 8 KB after it.")
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	prompt := fmt.Sprintf("<path>%s</path>\n<before>%s</before>\n<after>%s</after>", path, prefix, suffix)
	text, usage, err := s.model.complete(ctx, completionSystem, prompt, 256)
	if err != nil {
		if re, ok := err.(*RunError); ok {
			return "", re.asHTTP()
		}
		return "", err
	}
	if err := addUsage(context.WithoutCancel(ctx), s.db, actor.ID, "completion", usage.InputTokens, usage.OutputTokens); err != nil {
		s.log.Error("completion usage", "project_id", p.ID, "err", err)
	}
	s.meterCompletion(ctx, p.ID, actor.ID, usage.InputTokens, usage.OutputTokens)
	return cleanCompletion(text, suffix), nil
}

// cleanCompletion drops what models add despite being asked not to: code
// fences, and a repeat of the text after the cursor.
func cleanCompletion(text, suffix string) string {
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "```") {
		t = strings.TrimPrefix(t, "```")
		if i := strings.IndexByte(t, '\n'); i >= 0 {
			t = t[i+1:]
		}
		text = strings.TrimSuffix(strings.TrimRight(t, "\n "), "```")
	}
	if s := strings.TrimSpace(suffix); s != "" {
		text = strings.TrimSuffix(text, s)
	}
	return text
}
