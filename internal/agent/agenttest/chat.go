package agenttest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The same scripts over an OpenAI-compatible Chat Completions API, as
// Ollama, vLLM and OpenRouter serve it: POST /v1/chat/completions.

type chatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
	} `json:"messages"`
	Tools []struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	} `json:"tools"`
	Stream bool `json:"stream"`
}

// serveChat answers a chat completion from the scripts.
func (m *Model) serveChat(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var in chatRequest
	if err := json.Unmarshal(body, &in); err != nil {
		chatError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	// Recorded in the Messages API's shape, so tests read both alike.
	req := Request{Model: in.Model, Stream: in.Stream, APIKey: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")}
	for _, msg := range in.Messages {
		if msg.Role == "system" {
			req.System = msg.Content
			continue
		}
		var c Content
		_ = c.UnmarshalJSON(msg.Content)
		req.Messages = append(req.Messages, Message{Role: msg.Role, Content: c})
	}
	for _, t := range in.Tools {
		req.Tools = append(req.Tools, struct {
			Name string `json:"name"`
		}{t.Function.Name})
	}
	m.mu.Lock()
	m.requests = append(m.requests, req)
	m.mu.Unlock()

	turn := m.turn(req)
	if f := turn.Fail; f != nil && f.Status != 0 {
		chatError(w, f.Status, f.Type, f.Message)
		return
	}
	u := usage{In: len(body) / 4, Out: (len(turn.Text) + 40*len(turn.Tools)) / 4}
	finish := "stop"
	if len(turn.Tools) > 0 {
		finish = "tool_calls"
	}
	var calls []map[string]any
	for i, c := range turn.Tools {
		args, _ := json.Marshal(c.Input)
		calls = append(calls, map[string]any{"index": i, "id": fmt.Sprintf("call_%02d", i), "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": string(args)}})
	}
	usageJSON := map[string]any{"prompt_tokens": u.In, "completion_tokens": u.Out, "total_tokens": u.In + u.Out}
	if !in.Stream {
		msg := map[string]any{"role": "assistant", "content": turn.Text}
		if calls != nil {
			msg["tool_calls"] = calls
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "chatcmpl-scripted", "object": "chat.completion", "created": 0, "model": in.Model,
			"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}}, "usage": usageJSON})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	flusher, _ := w.(http.Flusher)
	send := func(choices []any, extra map[string]any) {
		chunk := map[string]any{"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": 0, "model": in.Model, "choices": choices}
		for k, v := range extra {
			chunk[k] = v
		}
		b, _ := json.Marshal(chunk)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	delta := func(d map[string]any) []any {
		return []any{map[string]any{"index": 0, "delta": d, "finish_reason": nil}}
	}
	send(delta(map[string]any{"role": "assistant", "content": ""}), nil)
	for _, c := range chunks(turn.Text, 12) {
		if c != "" {
			send(delta(map[string]any{"content": c}), nil)
		}
	}
	if f := turn.Fail; f != nil && (f.MidStream || f.Malformed) {
		fmt.Fprintf(w, "data: {\"choices\": [\n\n")
		return
	}
	for _, call := range calls {
		fn := call["function"].(map[string]any)
		send(delta(map[string]any{"tool_calls": []any{map[string]any{"index": call["index"], "id": call["id"], "type": "function",
			"function": map[string]any{"name": fn["name"], "arguments": ""}}}}), nil)
		for _, part := range chunks(fn["arguments"].(string), 40) {
			send(delta(map[string]any{"tool_calls": []any{map[string]any{"index": call["index"], "function": map[string]any{"arguments": part}}}}), nil)
		}
	}
	send([]any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": finish}}, nil)
	send([]any{}, map[string]any{"usage": usageJSON})
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func chatError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "code": nil}})
}
