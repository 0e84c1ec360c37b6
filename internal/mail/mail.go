// Package mail sends plain-text email through the operator's SMTP server:
// smtp://user:pass@host:port (STARTTLS whenever the server offers it) or
// smtps:// (TLS from the first byte). Credentials are sent only over TLS,
// or to a server on this host.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

const timeout = 30 * time.Second

// Config is where mail goes out and whom it is from.
type Config struct {
	URL  string // smtp://[user:pass@]host[:port] or smtps://...
	From string // an address, optionally with a name: E-Code <alerts@example.com>
}

// Sender sends mail through one SMTP server.
type Sender struct {
	addr     string // host:port
	host     string
	implicit bool
	user     *url.Userinfo
	from     *netmail.Address
	// tls is the TLS configuration; tests trust their own server's
	// certificate through it.
	tls *tls.Config
}

// New checks cfg and returns a sender; it does not connect.
func New(cfg Config) (*Sender, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("SMTP URL %q: want smtp://user:pass@host:port or smtps://...", cfg.URL)
	}
	s := &Sender{host: u.Hostname(), user: u.User}
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "587"
		}
	case "smtps":
		s.implicit = true
		if port == "" {
			port = "465"
		}
	default:
		return nil, fmt.Errorf("SMTP URL scheme %q: want smtp or smtps", u.Scheme)
	}
	s.addr = net.JoinHostPort(s.host, port)
	if s.from, err = netmail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("mail sender %q: %w", cfg.From, err)
	}
	s.tls = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	return s, nil
}

// WithTLS returns a copy of s that uses c for TLS (such as a test's own
// certificate authority).
func (s *Sender) WithTLS(c *tls.Config) *Sender {
	n := *s
	n.tls = c
	return &n
}

// CheckAddress refuses what is not one plain email address.
func CheckAddress(a string) error {
	p, err := netmail.ParseAddress(a)
	if err != nil || p.Address != a {
		return fmt.Errorf("%q is not an email address", a)
	}
	return nil
}

// Send mails a plain-text message to every address in to, in one
// transaction.
func (s *Sender) Send(ctx context.Context, to []string, subject, textBody string) error {
	if len(to) == 0 {
		return errors.New("send mail: no recipients")
	}
	for _, a := range to {
		if err := CheckAddress(a); err != nil {
			return fmt.Errorf("send mail: %w", err)
		}
	}
	msg, err := s.message(to, subject, textBody)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := s.dial(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return fmt.Errorf("smtp greeting from %s: %w", s.addr, err)
	}
	defer c.Close()
	if err := s.transact(c, to, msg); err != nil {
		return fmt.Errorf("send mail through %s: %w", s.addr, err)
	}
	return nil
}

func (s *Sender) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{}
	if s.implicit {
		td := &tls.Dialer{NetDialer: d, Config: s.tls}
		return td.DialContext(ctx, "tcp", s.addr)
	}
	return d.DialContext(ctx, "tcp", s.addr)
}

func (s *Sender) transact(c *smtp.Client, to []string, msg []byte) error {
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.implicit {
		if err := c.StartTLS(s.tls); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.user != nil {
		pass, _ := s.user.Password()
		if err := c.Auth(smtp.PlainAuth("", s.user.Username(), pass, s.host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return err
	}
	for _, a := range to {
		if err := c.Rcpt(a); err != nil {
			return fmt.Errorf("recipient %s: %w", a, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message lays out the headers and the quoted-printable body; a subject
// cannot smuggle headers in, its line breaks become spaces.
func (s *Sender) message(to []string, subject, body string) ([]byte, error) {
	id := make([]byte, 12)
	_, _ = rand.Read(id) // crypto/rand never fails on Linux
	subject = strings.Join(strings.Fields(subject), " ")
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", s.from.String())
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(to, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", hex.EncodeToString(id), s.domain())
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n"))); err != nil {
		return nil, fmt.Errorf("encode mail body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("encode mail body: %w", err)
	}
	return b.Bytes(), nil
}

func (s *Sender) domain() string {
	if _, d, ok := strings.Cut(s.from.Address, "@"); ok {
		return d
	}
	return "localhost"
}
