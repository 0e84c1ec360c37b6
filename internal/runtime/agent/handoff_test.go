package agent

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// After the host hands its connection to the service over, the client's
// messages reach the service with the host no longer reading them.
func TestHandOver(t *testing.T) {
	// The service upper-cases each line.
	svc, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	go func() {
		for {
			c, err := svc.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					io.WriteString(c, strings.ToUpper(line))
				}
			}()
		}
	}()

	// The host reads the client's first line itself, refuses "no\n" with
	// its own answer, and otherwise passes it on and hands over.
	sock := filepath.Join(t.TempDir(), "relay.sock")
	host, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	handed := make(chan bool, 2)
	go func() {
		for {
			c, err := host.AcceptUnix()
			if err != nil {
				return
			}
			first, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				c.Close()
				continue
			}
			if first == "no\n" {
				io.WriteString(c, "refused\n")
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", svc.Addr().String())
			if err != nil {
				c.Close()
				continue
			}
			io.WriteString(up, first)
			handed <- HandOver(c, up)
		}
	}()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go bridge(ln, sock)

	talk := func(lines ...string) []string {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var got []string
		for _, l := range lines {
			io.WriteString(c, l+"\n")
			answer, err := r.ReadString('\n')
			if err != nil {
				return append(got, "error: "+err.Error())
			}
			got = append(got, strings.TrimSpace(answer))
		}
		return got
	}
	if got := talk("hello", "and more", "after that"); strings.Join(got, "|") != "HELLO|AND MORE|AFTER THAT" {
		t.Fatalf("through the handed-over connection: %q", got)
	}
	if !<-handed {
		t.Fatal("the host did not hand over")
	}
	if got := talk("no"); len(got) != 1 || got[0] != "refused" {
		t.Fatalf("the host's own answer: %q", got)
	}
}
