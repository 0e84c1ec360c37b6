package replay

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/url"

	"ecode/internal/errs"
)

// maxURL bounds the page address kept for a session.
const maxURL = 2048

// rrweb's event types that the player needs: a full snapshot of the page,
// and the meta event (address and viewport) that goes before it.
const (
	typeFullSnapshot = 2
	typeMeta         = 4
)

// chunkInfo is what a valid chunk says about itself.
type chunkInfo struct {
	first, last int64 // event timestamps, unix ms
	full        bool  // it holds a full snapshot: playback can start here
	url         string
}

func badChunk(format string, args ...any) error {
	return errs.Invalid("bad_chunk", format, args...)
}

// inspect checks that gz is a gzip stream that decodes, within maxDecoded
// bytes, to a non-empty JSON array of objects with a numeric type and
// timestamp, and reads what the lists show from it. The stream is read to
// its end, so a truncated or corrupted one (gzip's checksum) is refused.
func inspect(gz []byte, maxDecoded int64) (chunkInfo, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return chunkInfo{}, badChunk("The chunk is not gzip: %v.", err)
	}
	lr := &io.LimitedReader{R: zr, N: maxDecoded + 1}
	info, err := events(json.NewDecoder(lr))
	if lr.N <= 0 {
		return chunkInfo{}, badChunk("The chunk decompresses to more than %d bytes.", maxDecoded)
	}
	return info, err
}

// events reads the JSON array of rrweb events from dec to its end.
func events(dec *json.Decoder) (chunkInfo, error) {
	info := chunkInfo{first: math.MaxInt64, last: math.MinInt64}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return chunkInfo{}, notArray(err)
	}
	n := 0
	for ; dec.More(); n++ {
		var ev struct {
			Type      *float64        `json:"type"`
			Timestamp *float64        `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		if err := dec.Decode(&ev); err != nil {
			return chunkInfo{}, badChunk("Event %d is not an object with a numeric type and timestamp: %v.", n, err)
		}
		if ev.Type == nil || ev.Timestamp == nil || *ev.Type != math.Trunc(*ev.Type) ||
			*ev.Timestamp < 0 || *ev.Timestamp > math.MaxInt64/2 {
			return chunkInfo{}, badChunk("Event %d needs an integer type and a timestamp in unix milliseconds.", n)
		}
		ts := int64(*ev.Timestamp)
		info.first, info.last = min(info.first, ts), max(info.last, ts)
		switch *ev.Type {
		case typeFullSnapshot:
			info.full = true
		case typeMeta:
			if info.url == "" {
				info.url = pageURL(ev.Data)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return chunkInfo{}, notArray(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			return chunkInfo{}, badChunk("The chunk holds more than one JSON array.")
		}
		return chunkInfo{}, notArray(err)
	}
	if n == 0 {
		return chunkInfo{}, badChunk("The chunk holds no events.")
	}
	return info, nil
}

func notArray(err error) error {
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		var syntax *json.SyntaxError
		if !errors.As(err, &syntax) {
			// Not JSON's fault: the gzip stream itself (a checksum, a cut).
			return badChunk("The chunk's gzip stream is damaged: %v.", err)
		}
	}
	return badChunk("The chunk must decompress to one JSON array of rrweb events.")
}

// pageURL is the address in a meta event's data, without its query and
// fragment (where tokens and personal data tend to be).
func pageURL(data json.RawMessage) string {
	var meta struct {
		Href string `json:"href"`
	}
	if json.Unmarshal(data, &meta) != nil {
		return ""
	}
	u, err := url.Parse(meta.Href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment, u.User = "", false, "", "", nil
	s := u.String()
	if len(s) > maxURL {
		return ""
	}
	return s
}
