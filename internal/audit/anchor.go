package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// AnchorFile is the anchor's name in the data directory.
const AnchorFile = "audit-anchor.json"

var headRE = regexp.MustCompile(`^([0-9]{1,19}):([0-9a-f]{64})$`)

// ParseHead reads a head as String writes it ("42:<mac>"), or the JSON of
// an anchor file.
func ParseHead(s string) (Head, error) {
	s = strings.TrimSpace(s)
	if m := headRE.FindStringSubmatch(s); m != nil {
		seq, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil && seq > 0 {
			return Head{Seq: seq, MAC: m[2]}, nil
		}
	}
	var h Head
	if err := json.Unmarshal([]byte(s), &h); err == nil && ((h.Seq == 0 && h.MAC == "") || headRE.MatchString(h.String())) {
		return h, nil
	}
	return Head{}, errors.New(`an audit head is "SEQ:MAC" (as verify-audit prints it) or an anchor file's JSON`)
}

// readAnchor returns the head anchored at path, or nil when there is none.
func readAnchor(path string) (*Head, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read audit anchor: %w", err)
	}
	h, err := ParseHead(string(b))
	if err != nil {
		return nil, fmt.Errorf("audit anchor %s: %w", path, err)
	}
	return &h, nil
}

// writeAnchor replaces the anchor at path with h, atomically: a reader
// sees the old head or the new one, never a torn file.
func writeAnchor(path string, h Head) error {
	b, _ := json.Marshal(h)
	f, err := os.CreateTemp(filepath.Dir(path), ".audit-anchor-*")
	if err != nil {
		return fmt.Errorf("write audit anchor: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write audit anchor: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write audit anchor: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write audit anchor: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write audit anchor: %w", err)
	}
	return nil
}
