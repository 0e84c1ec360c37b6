// Package billingtest is billing as a source of usage sees it from
// outside, for the sources' tests: a Recorder that keeps what it is sent.
package billingtest

import (
	"context"
	"sync"

	"ecode/internal/billing"
)

// Log keeps every usage it is sent, in order.
type Log struct {
	mu sync.Mutex
	us []billing.Usage
}

// Record keeps us.
func (l *Log) Record(_ context.Context, us ...billing.Usage) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.us = append(l.us, us...)
	return nil
}

// All is what was recorded so far.
func (l *Log) All() []billing.Usage {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]billing.Usage(nil), l.us...)
}

// Of is what was recorded of meter.
func (l *Log) Of(meter string) []billing.Usage {
	var out []billing.Usage
	for _, u := range l.All() {
		if u.Meter == meter {
			out = append(out, u)
		}
	}
	return out
}

// Sum adds the quantities of us.
func Sum(us []billing.Usage) int64 {
	var n int64
	for _, u := range us {
		n += u.Quantity
	}
	return n
}
