// Package mailtest is a real SMTP server for tests (emersion/go-smtp): it
// keeps every message it is given, parsed.
package mailtest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http/httptest"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server took.
type Message struct {
	From    string
	To      []string // the envelope's recipients
	Header  netmail.Header
	Subject string // decoded
	Body    string // decoded, with \n line ends
	TLS     bool   // whether it came over TLS
}

// Server is a listening SMTP server.
type Server struct {
	Addr string // host:port
	User string // when set, the user name PLAIN auth must give, with Pass
	Pass string
	// Roots trusts the server's certificate (for 127.0.0.1) when it
	// speaks TLS.
	Roots *x509.CertPool
	// Scheme is how a sender reaches it: smtp, or smtps for TLS first.
	Scheme string

	mu   sync.Mutex
	msgs []Message
}

// TLS is how a server speaks TLS.
type TLS int

const (
	Plain    TLS = iota // no TLS at all
	StartTLS            // STARTTLS offered
	Implicit            // TLS from the first byte (smtps)
)

// New starts a server on 127.0.0.1 for the test; with user set it
// requires PLAIN auth as user and pass.
func New(t testing.TB, user, pass string) *Server { return NewTLS(t, user, pass, Plain) }

// NewTLS is New speaking TLS as mode says, with a certificate Roots
// trusts.
func NewTLS(t testing.TB, user, pass string, mode TLS) *Server {
	t.Helper()
	srv := &Server{User: user, Pass: pass, Scheme: "smtp"}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{srv: srv, conn: c}, nil }))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true // over loopback
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if mode != Plain {
		// httptest's certificate is made for 127.0.0.1.
		hs := httptest.NewUnstartedServer(nil)
		hs.StartTLS()
		cfg := &tls.Config{Certificates: hs.TLS.Certificates}
		srv.Roots = x509.NewCertPool()
		srv.Roots.AddCert(hs.Certificate())
		hs.Close()
		if mode == Implicit {
			l, srv.Scheme = tls.NewListener(l, cfg), "smtps"
		} else {
			s.TLSConfig = cfg
		}
	}
	srv.Addr = l.Addr().String()
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return srv
}

// URL is the smtp:// URL a sender reaches the server at.
func (s *Server) URL() string {
	if s.User != "" {
		return s.Scheme + "://" + s.User + ":" + s.Pass + "@" + s.Addr
	}
	return s.Scheme + "://" + s.Addr
}

// Messages returns what the server has taken so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Await waits up to 30 s for a message whose subject contains sub.
func (s *Server) Await(t testing.TB, sub string) Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, m := range s.Messages() {
			if strings.Contains(m.Subject, sub) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail with %q in its subject; got %+v", sub, s.Messages())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type session struct {
	srv    *Server
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

var errAuth = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.srv.User || pass != s.srv.Pass {
			return errors.New("invalid credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.srv.User != "" && !s.authed {
		return errAuth
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	m, err := netmail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		return err
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return err
	}
	_, overTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, Message{From: s.from, To: s.to, Header: m.Header, Subject: subject,
		Body: strings.ReplaceAll(string(body), "\r\n", "\n"), TLS: overTLS})
	s.srv.mu.Unlock()
	return nil
}

func (s *session) Reset() { s.from, s.to = "", nil }

func (s *session) Logout() error { return nil }
