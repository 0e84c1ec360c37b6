package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"

	"ecode/internal/errs"
)

// DefaultModel is a current Claude Sonnet: fast and strong at code and tools.
const DefaultModel = anthropic.ModelClaudeSonnet5_5

// The APIs a model can be reached by.
const (
	APIAnthropic = "anthropic" // the Messages API: Anthropic, or a compatible server
	APIOpenAI    = "openai"    // the Chat Completions API of an OpenAI-compatible server
)

// Config says which model to use and where it is.
type Config struct {
	API        string // APIAnthropic (default) or APIOpenAI
	APIKey     string
	BaseURL    string // empty is Anthropic's own; required for APIOpenAI
	Model      string // default DefaultModel on Anthropic; required for APIOpenAI
	MaxRetries int    // retries of 429/5xx by the SDK, with backoff; 0 means 2
	// Meter, when set, holds credits for each run and is told the tokens
	// of every model call (billing.go); nil: nothing is metered.
	Meter Meter
}

// Configured reports whether a model can be reached: a key for Anthropic,
// or a base URL of a compatible server (which may need no key).
func (c Config) Configured() bool { return c.APIKey != "" || c.BaseURL != "" }

// provider is a model behind one API. The loop speaks the Messages API's
// shapes; a provider of another API translates both ways.
type provider interface {
	modelName() string
	api() string
	// turn asks for the next assistant message, streaming its text to onText.
	turn(ctx context.Context, system string, msgs []anthropic.MessageParam, onText func(string)) (*anthropic.Message, error)
	// complete asks for one short answer without tools.
	complete(ctx context.Context, system, prompt string, maxTokens int64) (string, anthropic.Usage, error)
}

func newProvider(c Config) provider {
	if c.MaxRetries == 0 {
		c.MaxRetries = 2
	}
	if c.API == APIOpenAI {
		return newOpenAI(c)
	}
	return newAnthropic(c)
}

// model is a model behind the Messages API.
type model struct {
	client anthropic.Client
	name   string
}

func (m *model) modelName() string { return m.name }
func (m *model) api() string       { return APIAnthropic }

func newAnthropic(c Config) *model {
	if c.Model == "" {
		c.Model = DefaultModel
	}
	opts := []option.RequestOption{
		option.WithoutEnvironmentDefaults(), // only what the operator configured, never the server's own env
		option.WithMaxRetries(c.MaxRetries),
		option.WithRequestTimeout(5 * time.Minute),
	}
	key := c.APIKey
	if key == "" {
		key = "none" // compatible local servers (Ollama, vLLM) want the header, not a value
	}
	opts = append(opts, option.WithAPIKey(key))
	if c.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(c.BaseURL))
	}
	return &model{client: anthropic.NewClient(opts...), name: c.Model}
}

func (m *model) turn(ctx context.Context, system string, msgs []anthropic.MessageParam, onText func(string)) (*anthropic.Message, error) {
	stream := m.client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{
		Model:     m.name,
		MaxTokens: 8192,
		System:    []anthropic.TextBlockParam{{Text: system}},
		Messages:  msgs,
		Tools:     toolParams(),
	})
	defer stream.Close()
	var msg anthropic.Message
	for stream.Next() {
		ev := stream.Current()
		if err := msg.Accumulate(ev); err != nil {
			return nil, providerError(fmt.Errorf("malformed stream: %w", err))
		}
		if ev.Type == "content_block_delta" && ev.Delta.Type == "text_delta" && onText != nil {
			onText(ev.Delta.Text)
		}
	}
	if err := stream.Err(); err != nil {
		return nil, providerError(err)
	}
	if msg.StopReason == "" {
		return nil, providerError(errors.New("the stream ended before the message did"))
	}
	return &msg, nil
}

func (m *model) complete(ctx context.Context, system, prompt string, maxTokens int64) (string, anthropic.Usage, error) {
	msg, err := m.client.Messages.New(ctx, anthropic.MessageNewParams{
		Model:     m.name,
		MaxTokens: maxTokens,
		System:    []anthropic.TextBlockParam{{Text: system}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(prompt))},
	})
	if err != nil {
		return "", anthropic.Usage{}, providerError(err)
	}
	var b strings.Builder
	for _, c := range msg.Content {
		if c.Type == "text" {
			b.WriteString(c.Text)
		}
	}
	return b.String(), msg.Usage, nil
}

// providerError turns what the model's API answered into words for the
// person, and whether trying again may help.
func providerError(err error) *RunError {
	var re *RunError
	if errors.As(err, &re) {
		return re
	}
	var netErr net.Error
	if errors.As(err, &netErr) && !strings.Contains(err.Error(), "overloaded") {
		return &RunError{Code: "ai_unreachable", Message: "E-Code could not reach the AI provider: " + firstLine(err.Error()) + ". Retry; if it persists, the operator should check the AI base URL.", Retryable: true}
	}
	status, typ, msg, ok := apiFailure(err)
	if !ok {
		if strings.Contains(err.Error(), "overloaded") {
			status, typ = 0, "overloaded_error"
		} else {
			return &RunError{Code: "ai_stream_failed", Message: "The answer from the AI provider broke off: " + firstLine(err.Error()) + ". Retry.", Retryable: true}
		}
	}
	switch {
	case status == http.StatusTooManyRequests || typ == "rate_limit_error":
		return &RunError{Code: "ai_rate_limited", Message: "The AI provider is rate limiting requests. Wait a moment, then retry.", Retryable: true}
	case status == 529 || typ == "overloaded_error":
		return &RunError{Code: "ai_overloaded", Message: "The AI provider is overloaded right now. Retry in a minute.", Retryable: true}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &RunError{Code: "ai_auth", Message: "The AI provider refused the API key. The operator should check the key E-Code is configured with."}
	case status >= 500 || status == http.StatusOK || typ == "api_error" || typ == "server_error":
		// An error event inside a stream comes with the stream's 200.
		return &RunError{Code: "ai_unavailable", Message: fmt.Sprintf("The AI provider had an error (%s). Retry in a moment.", firstLine(msg)), Retryable: true}
	}
	return &RunError{Code: "ai_request_failed", Message: fmt.Sprintf("The AI provider refused the request (%d): %s", status, firstLine(msg))}
}

// apiFailure reads an error answer of either SDK: status, error type, message.
func apiFailure(err error) (int, string, string, bool) {
	var a *anthropic.Error
	if errors.As(err, &a) {
		return a.StatusCode, string(a.Type()), a.Message, true
	}
	var o *openai.Error
	if errors.As(err, &o) {
		return o.StatusCode, o.Type, o.Message, true
	}
	return 0, "", "", false
}

func (e *RunError) Error() string { return e.Code + ": " + e.Message }

// asHTTP is a provider failure as an API error, for completions.
func (e *RunError) asHTTP() error {
	if e.Retryable {
		return errs.Unavailable(e.Code, "%s", e.Message)
	}
	return errs.Invalid(e.Code, "%s", e.Message)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
