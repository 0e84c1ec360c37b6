// Package agenttest plays a model for tests and benchmarks: an HTTP server
// that speaks the Anthropic Messages API (JSON and server-sent events,
// tool_use blocks, stop_reason, usage, error bodies) and answers from a
// script instead of thinking. The agent talks to it through the real SDK,
// exactly as it talks to Anthropic.
package agenttest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// Script is what the model does for prompts that contain Match ("" matches
// any): turn k answers the request that already holds k assistant turns.
type Script struct {
	Match string
	Turns []Turn
}

// Turn is one answer: some text, then tool calls; or a failure.
type Turn struct {
	Text  string
	Tools []ToolCall
	Fail  *Failure
}

// ToolCall asks the agent to run a tool.
type ToolCall struct {
	Name  string
	Input map[string]any
}

// Failure answers with an error the way the API does: an HTTP status with
// an error body, an error event in the middle of the stream, or a stream
// that is not JSON.
type Failure struct {
	Status    int    // 429, 500, 529 ...; 0 for a stream failure
	Type      string // rate_limit_error, api_error, overloaded_error
	Message   string
	MidStream bool // send some text, then an error event
	Malformed bool // send a data line that is not JSON
}

// Model serves scripts. Completion answers requests that carry no tools.
type Model struct {
	Scripts    []Script
	Completion string

	mu       sync.Mutex
	requests []Request
}

// Request is what the agent sent, as the tests look at it.
type Request struct {
	Model    string          `json:"model"`
	System   json.RawMessage `json:"system"`
	Messages []Message       `json:"messages"`
	Tools    []struct {
		Name string `json:"name"`
	} `json:"tools"`
	Stream bool `json:"stream"`
	APIKey string
}

// Message is one message of a request.
type Message struct {
	Role    string  `json:"role"`
	Content Content `json:"content"`
}

// Content is a message's blocks; a plain string becomes one text block.
type Content []Block

// Block is one content block of a request message.
type Block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	IsError   bool            `json:"is_error,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
}

// UnmarshalJSON accepts both forms of content.
func (c *Content) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*c = Content{{Type: "text", Text: s}}
		return nil
	}
	var blocks []Block
	err := json.Unmarshal(b, &blocks)
	*c = blocks
	return err
}

// Text joins the text of a message's blocks (tool results included).
func (m Message) Text() string {
	var b strings.Builder
	for _, c := range m.Content {
		b.WriteString(c.Text)
		if c.Type == "tool_result" {
			var s string
			if json.Unmarshal(c.Content, &s) == nil {
				b.WriteString(s)
			} else {
				var parts []Block
				_ = json.Unmarshal(c.Content, &parts)
				for _, p := range parts {
					b.WriteString(p.Text)
				}
			}
		}
	}
	return b.String()
}

// Requests returns every request so far.
func (m *Model) Requests() []Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Request(nil), m.requests...)
}

// ServeHTTP answers POST /v1/messages, and POST /v1/chat/completions (see
// chat.go); GET /health says it is up.
func (m *Model) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" {
		w.Write([]byte("ok\n"))
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions" {
		m.serveChat(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		apiError(w, http.StatusNotFound, "not_found_error", "no such route "+r.URL.Path)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req Request
	if err := json.Unmarshal(body, &req); err != nil {
		apiError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	req.APIKey = r.Header.Get("X-Api-Key")
	if req.APIKey == "" {
		req.APIKey = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	m.mu.Lock()
	m.requests = append(m.requests, req)
	m.mu.Unlock()
	if req.APIKey == "" {
		apiError(w, http.StatusUnauthorized, "authentication_error", "x-api-key header is required")
		return
	}
	turn := m.turn(req)
	if f := turn.Fail; f != nil && f.Status != 0 {
		if f.Status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		apiError(w, f.Status, f.Type, f.Message)
		return
	}
	usage := usage{In: len(body) / 4, Out: (len(turn.Text) + 40*len(turn.Tools)) / 4}
	if !req.Stream {
		writeJSON(w, turn, usage)
		return
	}
	stream(w, turn, usage)
}

func (m *Model) turn(req Request) Turn {
	if len(req.Tools) == 0 {
		return Turn{Text: m.Completion}
	}
	prompt, assistant := "", 0
	for _, msg := range req.Messages {
		if msg.Role == "assistant" {
			assistant++
		} else if prompt == "" {
			prompt = msg.Text()
		}
	}
	for _, s := range m.Scripts {
		if strings.Contains(strings.ToLower(prompt), strings.ToLower(s.Match)) {
			if assistant < len(s.Turns) {
				return s.Turns[assistant]
			}
			break
		}
	}
	return Turn{Text: "Nothing more to do."}
}

type usage struct{ In, Out int }

func blocks(t Turn) []map[string]any {
	var out []map[string]any
	if t.Text != "" {
		out = append(out, map[string]any{"type": "text", "text": t.Text})
	}
	for i, c := range t.Tools {
		out = append(out, map[string]any{"type": "tool_use", "id": fmt.Sprintf("toolu_%02d_%s", i, c.Name), "name": c.Name, "input": c.Input})
	}
	return out
}

func stopReason(t Turn) string {
	if len(t.Tools) > 0 {
		return "tool_use"
	}
	return "end_turn"
}

func writeJSON(w http.ResponseWriter, t Turn, u usage) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "msg_scripted", "type": "message", "role": "assistant", "model": "scripted",
		"content": blocks(t), "stop_reason": stopReason(t), "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": u.In, "output_tokens": u.Out},
	})
}

// stream sends the turn as the API's server-sent events, text and tool
// input in small deltas.
func stream(w http.ResponseWriter, t Turn, u usage) {
	w.Header().Set("Content-Type", "text/event-stream")
	flusher, _ := w.(http.Flusher)
	send := func(event string, data any) {
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_scripted", "type": "message", "role": "assistant", "model": "scripted", "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": u.In, "output_tokens": 1},
	}})
	for i, b := range blocks(t) {
		start := map[string]any{"type": b["type"]}
		var deltas []map[string]any
		if b["type"] == "text" {
			start["text"] = ""
			for _, c := range chunks(b["text"].(string), 12) {
				deltas = append(deltas, map[string]any{"type": "text_delta", "text": c})
			}
		} else {
			start["id"], start["name"], start["input"] = b["id"], b["name"], map[string]any{}
			in, _ := json.Marshal(b["input"])
			for _, c := range chunks(string(in), 40) {
				deltas = append(deltas, map[string]any{"type": "input_json_delta", "partial_json": c})
			}
		}
		send("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": start})
		for _, d := range deltas {
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": d})
		}
		if f := t.Fail; f != nil && f.MidStream {
			send("error", map[string]any{"type": "error", "error": map[string]any{"type": f.Type, "message": f.Message}})
			return
		}
		if f := t.Fail; f != nil && f.Malformed {
			fmt.Fprintf(w, "event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"index\": \n\n")
			return
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": i})
	}
	send("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stopReason(t), "stop_sequence": nil}, "usage": map[string]any{"output_tokens": u.Out}})
	send("message_stop", map[string]any{"type": "message_stop"})
}

// chunks splits s into pieces of n runes (never inside a character).
func chunks(s string, n int) []string {
	var out []string
	r := []rune(s)
	for len(r) > n {
		out = append(out, string(r[:n]))
		r = r[n:]
	}
	return append(out, string(r))
}

func apiError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
}
