// Package errs defines the few kinds of domain error that every capability
// returns. Each carries a stable machine code and a message a person can act
// on; httpx maps the kind to an HTTP status in one place.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error for callers that must decide what to do with it.
type Kind int

const (
	KindInternal Kind = iota
	KindInvalid
	KindUnauthenticated
	KindForbidden
	KindNotFound
	KindConflict
	KindTooLarge
	KindRateLimited
	KindUnavailable
	KindGone            // existed, and no longer does: an expired link
	KindPaymentRequired // the payer's credits are spent: top up to go on
)

// Error is a domain error. Cause, when set, is logged but never shown.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

func newErr(k Kind, code, format string, args []any) *Error {
	return &Error{Kind: k, Code: code, Message: fmt.Sprintf(format, args...)}
}

func Invalid(code, format string, args ...any) *Error {
	return newErr(KindInvalid, code, format, args)
}

func Unauthenticated(code, format string, args ...any) *Error {
	return newErr(KindUnauthenticated, code, format, args)
}

func Forbidden(code, format string, args ...any) *Error {
	return newErr(KindForbidden, code, format, args)
}

func NotFound(code, format string, args ...any) *Error {
	return newErr(KindNotFound, code, format, args)
}

func Conflict(code, format string, args ...any) *Error {
	return newErr(KindConflict, code, format, args)
}

func TooLarge(code, format string, args ...any) *Error {
	return newErr(KindTooLarge, code, format, args)
}

func RateLimited(code, format string, args ...any) *Error {
	return newErr(KindRateLimited, code, format, args)
}

func Unavailable(code, format string, args ...any) *Error {
	return newErr(KindUnavailable, code, format, args)
}

func Gone(code, format string, args ...any) *Error {
	return newErr(KindGone, code, format, args)
}

func PaymentRequired(code, format string, args ...any) *Error {
	return newErr(KindPaymentRequired, code, format, args)
}

// With returns a copy of e that records cause for the log.
func (e *Error) With(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// As finds the domain error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err is a domain error of kind k.
func Is(err error, k Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == k
}
