package billing

import (
	"context"
	"log/slog"
	"sync"

	"ecode/internal/errs"
)

// maxUnsent bounds the usage an Outbox keeps while its Recorder fails.
const maxUnsent = 10_000

// Outbox sends a source's usage to a Recorder in batches. A batch that
// fails is kept and sent again with the next, so an outage of the
// database loses nothing up to maxUnsent events; one refused as invalid
// is dropped, since it would be refused again.
type Outbox struct {
	rec  Recorder
	what string // "sandbox usage", for the log

	mu     sync.Mutex
	unsent []Usage
}

// NewOutbox sends to rec; what names the usage in the log.
func NewOutbox(rec Recorder, what string) *Outbox { return &Outbox{rec: rec, what: what} }

// Send records us and what an earlier failure left, in one call.
func (o *Outbox) Send(ctx context.Context, us []Usage) {
	o.mu.Lock()
	batch := append(o.unsent, us...)
	o.unsent = nil
	o.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	err := o.rec.Record(ctx, batch...)
	if err == nil {
		return
	}
	if errs.Is(err, errs.KindInvalid) {
		slog.ErrorContext(ctx, o.what+" refused, dropped", "events", len(batch), "err", err)
		return
	}
	slog.WarnContext(ctx, "record "+o.what+"; kept for the next batch", "events", len(batch), "err", err)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.unsent = append(batch, o.unsent...)
	if over := len(o.unsent) - maxUnsent; over > 0 {
		slog.ErrorContext(ctx, o.what+" dropped: the meter keeps failing", "events", over)
		o.unsent = o.unsent[over:]
	}
}
