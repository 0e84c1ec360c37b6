package agent

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// goClient speaks to a cache program as the go command does.
type goClient struct {
	t    *testing.T
	in   io.WriteCloser
	out  *json.Decoder
	next int64
	done chan error
}

func startGoCache(t *testing.T, shared, own string, notices io.Writer) *goClient {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &goClient{t: t, in: inW, out: json.NewDecoder(bufio.NewReader(outR)), done: make(chan error, 1)}
	go func() {
		err := GoCache(inR, outW, notices, shared, own)
		outW.Close()
		c.done <- err
	}()
	var hello goCacheResponse
	if err := c.out.Decode(&hello); err != nil || strings.Join(hello.KnownCommands, ",") != "get,put,close" {
		t.Fatalf("first message = %+v, %v", hello, err)
	}
	return c
}

func (c *goClient) send(req goCacheRequest, body []byte) goCacheResponse {
	c.t.Helper()
	c.next++
	req.ID = c.next
	line, _ := json.Marshal(req)
	msg := append(line, '\n')
	if len(body) > 0 {
		b, _ := json.Marshal(body) // a []byte is a base64 JSON string, as the go command sends it
		msg = append(append(msg, b...), '\n')
	}
	go c.in.Write(msg)
	var res goCacheResponse
	if err := c.out.Decode(&res); err != nil {
		c.t.Fatalf("%s: %v", req.Command, err)
	}
	if res.ID != req.ID {
		c.t.Fatalf("answer to %d for request %d", res.ID, req.ID)
	}
	return res
}

func (c *goClient) get(action []byte) goCacheResponse {
	return c.send(goCacheRequest{Command: "get", ActionID: action}, nil)
}

func (c *goClient) put(action, body []byte) goCacheResponse {
	out := sha256.Sum256(body)
	return c.send(goCacheRequest{Command: "put", ActionID: action, OutputID: out[:], BodySize: int64(len(body))}, body)
}

func (c *goClient) close() {
	c.t.Helper()
	c.send(goCacheRequest{Command: "close"}, nil)
	c.in.Close()
	if err := <-c.done; err != nil {
		c.t.Fatal(err)
	}
}

func actionID(name string) []byte {
	h := sha256.Sum256([]byte(name))
	return h[:]
}

// putEntry writes an entry as the go command's own disk cache does.
func putEntry(t *testing.T, dir string, action, body []byte) {
	t.Helper()
	out := sha256.Sum256(body)
	for name, data := range map[string][]byte{
		cacheFile(dir, out[:], "d"): body,
		cacheFile(dir, action, "a"): fmt.Appendf(nil, "v1 %x %x %20d %20d\n", action, out, len(body), time.Now().UnixNano()),
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGoCacheSharedFirstOwnWrites(t *testing.T) {
	shared, own := t.TempDir(), t.TempDir()
	std := actionID("compile fmt")
	putEntry(t, shared, std, []byte("fmt's archive"))
	// The project's own cache claims the same action with other bytes: it
	// must never shadow what the platform built.
	putEntry(t, own, std, []byte("poisoned fmt"))
	if err := os.Chmod(shared, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(shared, 0o755) })

	var notices strings.Builder
	c := startGoCache(t, shared, own, &notices)
	res := c.get(std)
	if res.Miss || !strings.HasPrefix(res.DiskPath, shared) {
		t.Fatalf("get of a shared action = %+v", res)
	}
	if b, _ := os.ReadFile(res.DiskPath); string(b) != "fmt's archive" {
		t.Fatalf("shared output = %q", b)
	}

	mine := actionID("compile main")
	if res := c.get(mine); !res.Miss {
		t.Fatalf("get of an unknown action = %+v", res)
	}
	res = c.put(mine, []byte("main's archive"))
	if !strings.HasPrefix(res.DiskPath, own) {
		t.Fatalf("put went to %q, not the project's own cache", res.DiskPath)
	}
	res = c.get(mine)
	if res.Miss || !strings.HasPrefix(res.DiskPath, own) || res.Size != int64(len("main's archive")) {
		t.Fatalf("get after put = %+v", res)
	}
	if entries, _ := os.ReadDir(shared); len(entries) != 2 { // the two folders putEntry made
		t.Fatalf("the shared cache changed: %v", entries)
	}
	// A put whose body is not what its output id says is refused.
	if res := c.send(goCacheRequest{Command: "put", ActionID: actionID("x"), OutputID: actionID("y"), BodySize: 3}, []byte("abc")); res.Err == "" {
		t.Fatalf("a put with a wrong output id was taken: %+v", res)
	}
	c.close()
	if notices.Len() != 0 {
		t.Fatalf("two misses were announced as compiling: %q", notices.String())
	}
}

func TestGoCacheCorruptEntriesMiss(t *testing.T) {
	own := t.TempDir()
	good := actionID("good")
	putEntry(t, own, good, []byte("body"))
	cases := map[string]func(a []byte){
		"truncated entry": func(a []byte) { os.WriteFile(cacheFile(own, a, "a"), []byte("v1 "), 0o644) },
		"another action's entry": func(a []byte) {
			b, _ := os.ReadFile(cacheFile(own, good, "a"))
			os.MkdirAll(filepath.Dir(cacheFile(own, a, "a")), 0o755)
			os.WriteFile(cacheFile(own, a, "a"), b, 0o644)
		},
		"output of the wrong size": func(a []byte) {
			putEntry(t, own, a, []byte("sized"))
			out := sha256.Sum256([]byte("sized"))
			os.WriteFile(cacheFile(own, out[:], "d"), []byte("longer than promised"), 0o644)
		},
		"output is a folder": func(a []byte) {
			putEntry(t, own, a, []byte("folder"))
			out := sha256.Sum256([]byte("folder"))
			p := cacheFile(own, out[:], "d")
			os.Remove(p)
			os.Mkdir(p, 0o755)
		},
	}
	c := startGoCache(t, "", own, nil)
	for name, corrupt := range cases {
		a := actionID(name)
		corrupt(a)
		if res := c.get(a); !res.Miss {
			t.Errorf("%s: got a hit %+v", name, res)
		}
	}
	if res := c.get(good); res.Miss {
		t.Fatal("a good entry missed")
	}
	c.close()
}

func TestGoCacheAnnouncesCompiling(t *testing.T) {
	var notices strings.Builder
	c := startGoCache(t, "", t.TempDir(), &notices)
	for i := range compilingAfter {
		a := actionID(fmt.Sprint("pkg", i))
		c.get(a)
		c.put(a, []byte("archive"))
	}
	c.close()
	got := notices.String()
	if !strings.HasPrefix(got, GoCompiling+"\n") || !strings.Contains(got, "\n"+GoCompiled) {
		t.Fatalf("notices = %q", got)
	}
}
