package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"ecode/internal/events"
)

// originHeader names the server an event was published on, which skips
// it when it comes back.
const originHeader = "Ecode-Origin"

// Fanout carries a bus's shared events between the servers of a cluster
// over a NATS JetStream stream: each event is stored for a while and each
// server reads the stream from where it joined, in order, again from where
// it was after a reconnect.
type Fanout struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	subject string // the stream's subjects, "<subject>.<event>"
	server  string
	consume jetstream.ConsumeContext
}

// NewFanout connects to NATS at url and delivers the shared events of the
// other servers to bus, from now on; it makes the stream when it is
// missing. bus sends its own through it once connected to it.
func NewFanout(ctx context.Context, url, stream, serverID string, bus *events.Bus) (*Fanout, error) {
	nc, err := nats.Connect(url, nats.Name("ecode "+serverID), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS JetStream: %w", err)
	}
	subject := strings.ToLower(stream)
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:     stream,
		Subjects: []string{subject + ".>"},
		MaxAge:   time.Hour, // a server that was away longer has restarted since
		Storage:  jetstream.FileStorage,
	}); err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS JetStream stream %s (is nats-server running with -js?): %w", stream, err)
	}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("read NATS stream %s: %w", stream, err)
	}
	f := &Fanout{nc: nc, js: js, subject: subject, server: serverID}
	f.consume, err = cons.Consume(func(m jetstream.Msg) {
		if m.Headers().Get(originHeader) == f.server {
			return
		}
		name := strings.TrimPrefix(m.Subject(), subject+".")
		if err := bus.Deliver(context.Background(), name, m.Data()); err != nil {
			slog.Error("cluster: an event from another server", "subject", m.Subject(), "err", err)
		}
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("read NATS stream %s: %w", stream, err)
	}
	return f, nil
}

// Send implements events.Remote: it returns once the stream has stored
// the event.
func (f *Fanout) Send(ctx context.Context, name string, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	m := nats.NewMsg(f.subject + "." + name)
	m.Header.Set(originHeader, f.server)
	m.Data = data
	if _, err := f.js.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("publish %s to NATS: %w", name, err)
	}
	return nil
}

// Check fails while NATS is out of reach: events of the other servers do
// not arrive meanwhile.
func (f *Fanout) Check(context.Context) error {
	if !f.nc.IsConnected() {
		return fmt.Errorf("NATS at %s: %s", f.nc.ConnectedUrlRedacted(), f.nc.Status())
	}
	return nil
}

// Close stops reading and disconnects.
func (f *Fanout) Close() {
	f.consume.Stop()
	f.nc.Close()
}
