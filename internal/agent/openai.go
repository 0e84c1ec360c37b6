package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// chat is a model behind an OpenAI-compatible Chat Completions API
// (Ollama, vLLM, OpenRouter, LM Studio ...). The conversation stays in
// the Messages API's shapes; each turn is translated there and back.
type chat struct {
	client openai.Client
	name   string
}

func newOpenAI(c Config) *chat {
	key := c.APIKey
	if key == "" {
		key = "none" // local servers want the header, not a value
	}
	return &chat{name: c.Model, client: openai.NewClient(
		option.WithAPIKey(key), option.WithBaseURL(c.BaseURL),
		option.WithMaxRetries(c.MaxRetries), option.WithRequestTimeout(5*time.Minute),
	)}
}

func (m *chat) modelName() string { return m.name }
func (m *chat) api() string       { return APIOpenAI }

// block is a content block of the Messages API as it travels on the wire:
// the one shape both directions of the translation read and write.
type block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
}

// chatMessages translates the conversation: text to user and assistant
// messages, tool_use blocks to tool calls, tool_result blocks to tool
// messages.
func chatMessages(system string, msgs []anthropic.MessageParam) ([]openai.ChatCompletionMessageParamUnion, error) {
	out := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system)}
	for _, msg := range msgs {
		raw, err := json.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("encode message: %w", err)
		}
		var wire struct {
			Role    string  `json:"role"`
			Content []block `json:"content"`
		}
		if err := json.Unmarshal(raw, &wire); err != nil {
			return nil, fmt.Errorf("decode message: %w", err)
		}
		if wire.Role == "assistant" {
			a := openai.ChatCompletionAssistantMessageParam{}
			text := ""
			for _, b := range wire.Content {
				switch b.Type {
				case "text":
					text += b.Text
				case "tool_use":
					a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID: b.ID, Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: b.Name, Arguments: string(b.Input)},
					}})
				}
			}
			if text != "" {
				a.Content.OfString = openai.String(text)
			}
			out = append(out, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
			continue
		}
		for _, b := range wire.Content {
			switch b.Type {
			case "text":
				out = append(out, openai.UserMessage(b.Text))
			case "tool_result":
				out = append(out, openai.ToolMessage(resultText(b.Content), b.ToolUseID))
			}
		}
	}
	return out, nil
}

// resultText reads a tool_result's content: a string, or text blocks.
func resultText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []block
	_ = json.Unmarshal(raw, &parts)
	for _, p := range parts {
		s += p.Text
	}
	return s
}

func chatTools() []openai.ChatCompletionToolUnionParam {
	out := make([]openai.ChatCompletionToolUnionParam, len(tools))
	for i, t := range tools {
		params := shared.FunctionParameters{"type": "object", "properties": t.props}
		if len(t.required) > 0 {
			params["required"] = t.required
		}
		out[i] = openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: t.name, Description: openai.String(t.description), Parameters: params,
		})
	}
	return out
}

func (m *chat) turn(ctx context.Context, system string, msgs []anthropic.MessageParam, onText func(string)) (*anthropic.Message, error) {
	messages, err := chatMessages(system, msgs)
	if err != nil {
		return nil, err
	}
	stream := m.client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
		Model:               m.name,
		Messages:            messages,
		Tools:               chatTools(),
		MaxCompletionTokens: openai.Int(8192),
		StreamOptions:       openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	})
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		chunk := stream.Current()
		acc.AddChunk(chunk)
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" && onText != nil {
			onText(chunk.Choices[0].Delta.Content)
		}
	}
	if err := stream.Err(); err != nil {
		return nil, providerError(err)
	}
	if len(acc.Choices) == 0 || acc.Choices[0].FinishReason == "" {
		return nil, providerError(errors.New("the stream ended before the message did"))
	}
	return toMessage(acc.ChatCompletion)
}

// toMessage is a chat completion as the Messages API would have answered.
func toMessage(c openai.ChatCompletion) (*anthropic.Message, error) {
	choice := c.Choices[0]
	var content []block
	if choice.Message.Content != "" {
		content = append(content, block{Type: "text", Text: choice.Message.Content})
	}
	for _, call := range choice.Message.ToolCalls {
		input := json.RawMessage(call.Function.Arguments)
		if !json.Valid(input) || len(input) == 0 {
			input = json.RawMessage("{}") // the tool reports the missing arguments
		}
		content = append(content, block{Type: "tool_use", ID: call.ID, Name: call.Function.Name, Input: input})
	}
	stop := map[string]string{"tool_calls": "tool_use", "length": "max_tokens"}[choice.FinishReason]
	if stop == "" {
		stop = "end_turn"
	}
	raw, err := json.Marshal(map[string]any{
		"id": c.ID, "type": "message", "role": "assistant", "model": c.Model, "content": content, "stop_reason": stop,
		"usage": map[string]any{"input_tokens": c.Usage.PromptTokens, "output_tokens": c.Usage.CompletionTokens},
	})
	if err != nil {
		return nil, fmt.Errorf("translate completion: %w", err)
	}
	var msg anthropic.Message
	if err := json.Unmarshal(raw, &msg); err != nil {
		return nil, fmt.Errorf("translate completion: %w", err)
	}
	return &msg, nil
}

func (m *chat) complete(ctx context.Context, system, prompt string, maxTokens int64) (string, anthropic.Usage, error) {
	c, err := m.client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:               m.name,
		Messages:            []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(system), openai.UserMessage(prompt)},
		MaxCompletionTokens: openai.Int(maxTokens),
	})
	if err != nil {
		return "", anthropic.Usage{}, providerError(err)
	}
	u := anthropic.Usage{InputTokens: c.Usage.PromptTokens, OutputTokens: c.Usage.CompletionTokens}
	if len(c.Choices) == 0 {
		return "", u, nil
	}
	return c.Choices[0].Message.Content, u, nil
}
