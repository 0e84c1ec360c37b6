package agent

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// GoCache is `ecode gocache`, the GOCACHEPROG of every sandbox (see
// cmd/go/internal/cacheprog): the go command asks it for build outputs by
// action id and hands it what it compiled. A get looks in the shared
// cache first, a read-only mount of what the platform compiled itself
// (Go's standard library), then in the project's own cache; a put writes
// to the project's own only. No project can write what another reads, and
// a project's own entries never shadow the shared ones.
//
// Both caches use the go command's own on-disk layout (an "-a" entry per
// action, a "-d" file per output), so the shared cache is an ordinary
// GOCACHE the platform filled with `go build`, and a project that unsets
// GOCACHEPROG still finds what it compiled.
//
// While it serves one go command it notices compiling (several misses)
// and says so on stderr, which the go command shares: a first build
// compiles for a while and should not look hung.
func GoCache(in io.Reader, out, notices io.Writer, shared, own string) error {
	g := &goCache{shared: shared, own: own, notices: notices, now: time.Now}
	return g.serve(in, out)
}

// What the cache program says on stderr while a go command compiles; the
// run service shows the run as building between the two.
const (
	GoCompiling = "Compiling Go packages… (the first build of a project takes longer)"
	GoCompiled  = "Go packages compiled in "
)

// compilingAfter is how many misses make a build worth announcing: an
// edited main package alone misses once or twice, a cold build hundreds of
// times.
const compilingAfter = 3

const (
	hashSize  = sha256.Size
	hexSize   = 2 * hashSize
	entrySize = 2 + 1 + hexSize + 1 + hexSize + 1 + 20 + 1 + 20 + 1 // "v1 <action> <output> <size> <unixnano>\n"
)

// Cache program protocol (cmd/go/internal/cacheprog), field names as the
// go command writes them.
type goCacheRequest struct {
	ID       int64
	Command  string
	ActionID []byte `json:",omitempty"`
	OutputID []byte `json:",omitempty"`
	BodySize int64  `json:",omitempty"`
}

type goCacheResponse struct {
	ID            int64
	Err           string     `json:",omitempty"`
	KnownCommands []string   `json:",omitempty"`
	Miss          bool       `json:",omitempty"`
	OutputID      []byte     `json:",omitempty"`
	Size          int64      `json:",omitempty"`
	Time          *time.Time `json:",omitempty"`
	DiskPath      string     `json:",omitempty"`
}

type goCache struct {
	shared, own string
	notices     io.Writer
	now         func() time.Time

	misses, puts int
	announced    time.Time // when compiling was announced; zero until then
}

func (g *goCache) serve(in io.Reader, out io.Writer) error {
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	send := func(r goCacheResponse) error {
		if err := enc.Encode(r); err != nil {
			return err
		}
		return w.Flush()
	}
	if err := send(goCacheResponse{KnownCommands: []string{"get", "put", "close"}}); err != nil {
		return err
	}
	dec := json.NewDecoder(bufio.NewReaderSize(in, 64<<10))
	for {
		var req goCacheRequest
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil // the go command closed stdin: it is done
			}
			return fmt.Errorf("gocache request: %w", err)
		}
		var res goCacheResponse
		var err error
		switch req.Command {
		case "get":
			res, err = g.get(req.ActionID)
		case "put":
			var body []byte
			if req.BodySize > 0 {
				// The body follows as one base64 JSON string.
				if err := dec.Decode(&body); err != nil {
					return fmt.Errorf("gocache put body: %w", err)
				}
			}
			res, err = g.put(req, body)
		case "close":
			g.finish()
			return send(goCacheResponse{ID: req.ID})
		default:
			err = fmt.Errorf("unknown command %q", req.Command)
		}
		res.ID = req.ID
		if err != nil {
			res = goCacheResponse{ID: req.ID, Err: err.Error()}
		}
		if err := send(res); err != nil {
			return err
		}
	}
}

func (g *goCache) get(action []byte) (goCacheResponse, error) {
	if len(action) != hashSize {
		return goCacheResponse{}, fmt.Errorf("action id of %d bytes", len(action))
	}
	for _, dir := range []string{g.shared, g.own} {
		if dir == "" {
			continue
		}
		if res, ok := lookup(dir, action); ok {
			if dir == g.own {
				g.markUsed(action, res)
			}
			return res, nil
		}
	}
	g.misses++
	if g.misses == compilingAfter && g.notices != nil {
		g.announced = g.now()
		fmt.Fprintf(g.notices, "%s\n", GoCompiling)
	}
	return goCacheResponse{Miss: true}, nil
}

// lookup reads an action's entry in a cache folder, and finds its output
// there with the size the entry promises.
func lookup(dir string, action []byte) (goCacheResponse, bool) {
	f, err := os.Open(cacheFile(dir, action, "a"))
	if err != nil {
		return goCacheResponse{}, false
	}
	defer f.Close()
	var entry [entrySize + 1]byte // one more: an entry that is too long is no entry
	if n, _ := io.ReadFull(f, entry[:]); n != entrySize {
		return goCacheResponse{}, false
	}
	output, size, when, ok := parseEntry(entry[:entrySize], action)
	if !ok {
		return goCacheResponse{}, false
	}
	path := cacheFile(dir, output, "d")
	if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() || info.Size() != size {
		return goCacheResponse{}, false
	}
	return goCacheResponse{OutputID: output, Size: size, Time: &when, DiskPath: path}, true
}

func parseEntry(e []byte, action []byte) (output []byte, size int64, when time.Time, ok bool) {
	fields := bytes.Fields(e)
	if len(fields) != 5 || string(fields[0]) != "v1" || e[len(e)-1] != '\n' {
		return nil, 0, time.Time{}, false
	}
	id, err := hex.DecodeString(string(fields[1]))
	if err != nil || !bytes.Equal(id, action) {
		return nil, 0, time.Time{}, false
	}
	output, err = hex.DecodeString(string(fields[2]))
	if err != nil || len(output) != hashSize {
		return nil, 0, time.Time{}, false
	}
	size, err1 := strconv.ParseInt(string(fields[3]), 10, 64)
	nanos, err2 := strconv.ParseInt(string(fields[4]), 10, 64)
	if err1 != nil || err2 != nil || size < 0 || nanos < 0 {
		return nil, 0, time.Time{}, false
	}
	return output, size, time.Unix(0, nanos), true
}

func (g *goCache) put(req goCacheRequest, body []byte) (goCacheResponse, error) {
	if len(req.ActionID) != hashSize || len(req.OutputID) != hashSize {
		return goCacheResponse{}, errors.New("put without action and output ids")
	}
	if int64(len(body)) != req.BodySize {
		return goCacheResponse{}, fmt.Errorf("put body of %d bytes, %d announced", len(body), req.BodySize)
	}
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], req.OutputID) {
		return goCacheResponse{}, errors.New("put body does not match its output id")
	}
	if g.own == "" {
		return goCacheResponse{}, errors.New("no cache folder to write to (GOCACHE)")
	}
	g.puts++
	path := cacheFile(g.own, req.OutputID, "d")
	if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() || info.Size() != int64(len(body)) {
		if err := writeAtomic(path, body); err != nil {
			return goCacheResponse{}, err
		}
	}
	entry := fmt.Sprintf("v1 %x %x %20d %20d\n", req.ActionID, req.OutputID, len(body), g.now().UnixNano())
	if err := writeAtomic(cacheFile(g.own, req.ActionID, "a"), []byte(entry)); err != nil {
		return goCacheResponse{}, err
	}
	return goCacheResponse{DiskPath: path}, nil
}

// markUsed refreshes an own entry's times at most hourly, as the go
// command does, so trimming (oldest first) keeps what builds still use.
func (g *goCache) markUsed(action []byte, res goCacheResponse) {
	now := g.now()
	for _, p := range []string{cacheFile(g.own, action, "a"), res.DiskPath} {
		if info, err := os.Stat(p); err == nil && now.Sub(info.ModTime()) >= time.Hour {
			_ = os.Chtimes(p, now, now)
		}
	}
}

// finish says how long the compiling took, once it was announced.
func (g *goCache) finish() {
	if !g.announced.IsZero() && g.notices != nil {
		fmt.Fprintf(g.notices, "%s%.1f s (%d packages).\n", GoCompiled, g.now().Sub(g.announced).Seconds(), g.puts)
	}
}

func cacheFile(dir string, id []byte, kind string) string {
	return filepath.Join(dir, hex.EncodeToString(id[:1]), hex.EncodeToString(id)+"-"+kind)
}

// writeAtomic writes a file whole or not at all: builds running at once
// in the same sandbox read what the others write.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
