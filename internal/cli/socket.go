package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsMsg is a message of the workspace socket, both ways (see
// docs/ARCHITECTURE.md); which fields are used depends on its type.
type wsMsg struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"`
	Data []byte `json:"data,omitempty"` // base64 in JSON
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	// Code is shell.exit's exit code (a number) or error's code (a string).
	Code    json.RawMessage `json:"code,omitempty"`
	Message string          `json:"message,omitempty"`
	Agent   json.RawMessage `json:"agent,omitempty"`
}

// apiError is an error message as the API error it is.
func (m wsMsg) apiError() *APIError {
	var code string
	_ = json.Unmarshal(m.Code, &code)
	return &APIError{Code: code, Message: m.Message}
}

// socket is one workspace WebSocket of a project. Messages from the
// server arrive on In until the socket ends; Err then says why.
type socket struct {
	conn *websocket.Conn
	In   <-chan wsMsg

	done chan struct{}
	once sync.Once
	err  error
}

// sendTimeout bounds one message's sending, so a stalled connection
// fails rather than hangs.
const sendTimeout = 10 * time.Second

// maxMessage bounds one message from the server: a shell's replayed
// screen (256 KiB, base64) and an agent run's snapshot fit.
const maxMessage = 16 << 20

// dialWorkspace opens the workspace socket of project id.
func dialWorkspace(ctx context.Context, c *Client, id string) (*socket, error) {
	u := c.Host + projectPath(id, "/ws") // http(s) means ws(s) to Dial
	header := http.Header{}
	if c.Token != "" {
		header.Set("Authorization", "Bearer "+c.Token)
	}
	conn, res, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: c.HTTP, HTTPHeader: header})
	if err != nil {
		if res != nil && res.StatusCode != http.StatusSwitchingProtocols && res.Body != nil {
			return nil, readError(res)
		}
		return nil, fmt.Errorf("reach %s: %w", c.Host, err)
	}
	conn.SetReadLimit(maxMessage)
	in := make(chan wsMsg)
	s := &socket{conn: conn, In: in, done: make(chan struct{})}
	go s.read(in)
	return s, nil
}

// read delivers the server's messages until the socket ends. Reading
// also answers the server's pings.
func (s *socket) read(in chan<- wsMsg) {
	defer close(in)
	for {
		_, data, err := s.conn.Read(context.Background())
		if err != nil {
			s.err = err
			return
		}
		var m wsMsg
		if err := json.Unmarshal(data, &m); err != nil {
			s.err = fmt.Errorf("a message from the server is not JSON: %w", err)
			s.conn.CloseNow()
			return
		}
		select {
		case in <- m:
		case <-s.done:
			return
		}
	}
}

// Err says why In closed: the connection was lost, or closed here. It
// is read only once In is closed.
func (s *socket) Err() error {
	var ce websocket.CloseError
	if errors.As(s.err, &ce) && ce.Code == websocket.StatusNormalClosure {
		return errors.New("the server closed the connection")
	}
	return fmt.Errorf("lost the connection to the server: %w", s.err)
}

// Send sends m. It does not take the command's context: a cancelled one
// would close the socket, and commands still send their last words
// (shell.close) after Ctrl-C.
func (s *socket) Send(m wsMsg) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", m.Type, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, raw); err != nil {
		return fmt.Errorf("send %s: %w", m.Type, err)
	}
	return nil
}

// Close ends the socket and its reader.
func (s *socket) Close() {
	s.once.Do(func() {
		close(s.done)
		s.conn.Close(websocket.StatusNormalClosure, "")
	})
}
