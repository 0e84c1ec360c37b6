package run

import (
	"strings"
	"testing"
)

func TestConsoleTailIsPlainText(t *testing.T) {
	s := &Service{consoles: map[string]*console{}}
	c := s.console("p")
	c.out.write([]byte("\x1b[2m$ node server.js\x1b[0m\r\n⠙\x1b[1G\x1b[0K⠹\x1b[1G\x1b[0Kinstalled\r\n\x1b]0;title\x07listening on 3000\n"))
	if got := s.ConsoleTail("p", 1000); got != "$ node server.js\ninstalled\nlistening on 3000\n" {
		t.Fatalf("tail = %q", got)
	}
	if got := s.ConsoleTail("p", 10); !strings.HasSuffix(got, "on 3000\n") || len(got) > 10 {
		t.Fatalf("short tail = %q", got)
	}
}
