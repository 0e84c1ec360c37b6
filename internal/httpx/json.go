// Package httpx holds the HTTP plumbing every capability shares: JSON in and
// out, the one table from domain errors to status codes, the route table and
// the middleware chain.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"ecode/internal/errs"
)

// MaxJSONBody bounds a JSON request body; larger bodies are refused with 413.
const MaxJSONBody = 1 << 20

// JSON writes v with status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// Reply answers err through the error table, or v with status.
func Reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		Error(w, r, err)
		return
	}
	JSON(w, status, v)
}

// NoContent answers err through the error table, or 204.
func NoContent(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Decode reads one JSON object into dst, refusing unknown fields, trailing
// data and bodies over MaxJSONBody.
func Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	body := http.MaxBytesReader(w, r.Body, MaxJSONBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errs.Invalid("invalid_json", "The request body must hold a single JSON object.")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax   *json.SyntaxError
		typ      *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	if e, ok := errs.As(err); ok {
		return e // the body itself failed in words already (it stopped arriving)
	}
	switch {
	case errors.As(err, &tooLarge):
		return errs.TooLarge("body_too_large", "The request body is larger than %d bytes.", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return errs.Invalid("invalid_json", "The request body is empty; send a JSON object.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return errs.Invalid("invalid_json", "The request body is not valid JSON.")
	case errors.As(err, &typ):
		return errs.Invalid("invalid_json", "Field %q must be of type %s.", typ.Field, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return errs.Invalid("unknown_field", "Unknown field %s in the request body.", field)
	}
	return errs.Invalid("invalid_json", "The request body could not be read: %v.", err)
}

// ErrorBody is the wire shape of every error response.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

var statusOf = map[errs.Kind]int{
	errs.KindInvalid:         http.StatusBadRequest,
	errs.KindUnauthenticated: http.StatusUnauthorized,
	errs.KindForbidden:       http.StatusForbidden,
	errs.KindNotFound:        http.StatusNotFound,
	errs.KindConflict:        http.StatusConflict,
	errs.KindTooLarge:        http.StatusRequestEntityTooLarge,
	errs.KindRateLimited:     http.StatusTooManyRequests,
	errs.KindUnavailable:     http.StatusServiceUnavailable,
	errs.KindGone:            http.StatusGone,
	errs.KindPaymentRequired: http.StatusPaymentRequired,
}

// Error answers err in the one error shape. Domain errors keep their code and
// message; anything else is logged with the request id and shown as internal.
func Error(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := http.StatusInternalServerError, "internal", "Something went wrong on our side; it has been logged."
	if e, ok := errs.As(err); ok && e.Kind != errs.KindInternal {
		status, code, msg = statusOf[e.Kind], e.Code, e.Message
	} else if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away; nobody reads this answer and nothing failed.
		status, code, msg = 499, "client_closed", "The request was cancelled."
	}
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	slog.Log(r.Context(), level, "request failed", "request_id", RequestID(r.Context()),
		"method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	WriteError(w, status, code, msg)
}

// WriteError writes the error shape directly, for middleware that has no
// domain error at hand.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, message
	JSON(w, status, b)
}

// notFound answers unmatched API paths in the error shape.
func notFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, "not_found", fmt.Sprintf("No API route %s %s.", r.Method, r.URL.Path))
}
