package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestLargeEnvironment: a request far over any line buffer (a 64 KiB
// secret, the most the secrets API takes, and a dozen PEM-sized ones)
// reaches the agent whole.
func TestLargeEnvironment(t *testing.T) {
	c := startAgent(t)
	big := strings.Repeat("k", 64<<10)
	e := append(slices.Clone(env), "BIG="+big)
	for i := range 12 {
		e = append(e, "PEM"+string(rune('A'+i))+"="+strings.Repeat("p", 4<<10))
	}
	out, _, x := run(t, c, Request{Argv: []string{"sh", "-c", `printf %s "$BIG" | wc -c; printf %s "$PEML" | wc -c`}, Env: e}, "")
	if x.Code != 0 || !slices.Equal(strings.Fields(out), []string{"65536", "4096"}) {
		t.Fatalf("large environment: %q %+v", out, x)
	}
}

// TestRequestOverTheCap: a request over MaxRequest is refused on the host
// with an error that says why, before anything is sent.
func TestRequestOverTheCap(t *testing.T) {
	c := startAgent(t)
	huge := strings.Repeat("x", MaxRequest)
	_, err := c.Exec(context.Background(), Request{Argv: []string{"true"}, Env: []string{"HUGE=" + huge}})
	var tl *TooLargeError
	if !errors.As(err, &tl) || !strings.Contains(err.Error(), "over the 8192 KiB a sandbox command may have") {
		t.Fatalf("request over the cap: %v", err)
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("the agent after a refused request: %v", err)
	}
}

// TestAgentRefusesOversizedHeader: a connection that announces more than
// MaxRequest gets an error reply, not an allocation of that size.
func TestAgentRefusesOversizedHeader(t *testing.T) {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], MaxRequest+1)
	var rep Reply
	err := readMessage(bytes.NewReader(hdr[:]), "request", MaxRequest, &rep)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Size != MaxRequest+1 {
		t.Fatalf("oversized header: %v", err)
	}
}

// allocated is the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	fn()
	goruntime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// FuzzWire feeds arbitrary bytes to the agent's decoders, as a host or an
// agent may receive them: a request (or reply) message, then exec frames.
// Nothing panics, what is held grows with the bytes that arrived and never
// past the caps, and whatever decodes encodes back to the same value.
func FuzzWire(f *testing.F) {
	// Seeds are in testdata/fuzz/FuzzWire: requests with frames, replies, and
	// lengths that lie, overflow or pass the caps.
	f.Fuzz(func(t *testing.T, data []byte) {
		// Decoding JSON takes some multiple of its size (an int per two
		// bytes of "1,"); never anything like what a header announces.
		bound := uint64(64*len(data)) + maxFrame + 1<<20
		var req Request
		var rep Reply
		var reqErr, repErr error
		if n := allocated(func() {
			r := bytes.NewReader(data)
			if reqErr = readMessage(r, "request", MaxRequest, &req); reqErr == nil {
				buf := make([]byte, 0, 512)
				for {
					kind, p, err := readFrame(r, buf)
					if err != nil {
						break
					}
					if len(p) > maxFrame {
						t.Fatalf("frame %c of %d bytes, over the cap", kind, len(p))
					}
				}
			}
			repErr = readMessage(bytes.NewReader(data), "reply", maxReply, &rep)
		}); n > bound {
			t.Fatalf("decoding %d bytes allocated %d", len(data), n)
		}
		if reqErr == nil {
			roundTrip(t, req)
		}
		if repErr == nil {
			b, err := encodeMessage("reply", maxReply, rep)
			if err != nil {
				t.Fatalf("re-encode %+v: %v", rep, err)
			}
			var again Reply
			if err := readMessage(bytes.NewReader(b), "reply", maxReply, &again); err != nil ||
				again.Error != rep.Error || again.PID != rep.PID || !slices.Equal(again.Ports, rep.Ports) {
				t.Fatalf("reply %+v came back as %+v (%v)", rep, again, err)
			}
		}

		// What the encoder writes from these bytes decodes to itself.
		words := strings.Split(strings.ToValidUTF8(string(data), "\uFFFD"), "\x00")
		own := Request{Op: words[0], Argv: words, Env: words, Dir: words[len(words)-1], TTY: len(data)%2 == 0,
			Rows: uint16(len(data)), Cols: uint16(len(words)), Port: len(data)}
		roundTrip(t, own)
		var frames bytes.Buffer
		if err := writeFrame(&frames, frameStdout, data); err != nil {
			t.Fatal(err)
		}
		kind, p, err := readFrame(&frames, nil)
		if err != nil || kind != frameStdout || !bytes.Equal(p, data) {
			t.Fatalf("frame came back as %c %q (%v)", kind, p, err)
		}
	})
}

func roundTrip(t *testing.T, req Request) {
	t.Helper()
	for _, s := range append(append([]string{req.Op, req.Dir}, req.Argv...), req.Env...) {
		if !utf8.ValidString(s) {
			t.Fatalf("decoded a string that is not UTF-8: %q", s)
		}
	}
	var buf bytes.Buffer
	if err := writeRequest(&buf, req); err != nil {
		t.Fatalf("encode %+v: %v", req, err)
	}
	var got Request
	if err := readRequest(&buf, &got); err != nil {
		t.Fatalf("decode what the encoder wrote: %v", err)
	}
	if got.Op != req.Op || !slices.Equal(got.Argv, req.Argv) || !slices.Equal(got.Env, req.Env) || got.Dir != req.Dir ||
		got.TTY != req.TTY || got.Rows != req.Rows || got.Cols != req.Cols || got.Port != req.Port {
		t.Fatalf("request %+v came back as %+v", req, got)
	}
	if buf.Len() != 0 {
		t.Fatalf("%d bytes left after the message", buf.Len())
	}
}
