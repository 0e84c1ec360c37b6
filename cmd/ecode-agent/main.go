// Command ecode-agent is the sandbox agent alone: PID 1 of every sandbox.
// ecode runs `ecode sandbox-agent` itself when this binary is missing; as a
// binary of its own it starts in half the time, which every sandbox start
// waits for.
package main

import (
	"fmt"
	"os"

	"ecode/internal/runtime/bwrap"
)

func main() {
	handled, err := bwrap.Main(os.Args[1:])
	if !handled {
		err = fmt.Errorf("usage: ecode-agent sandbox-agent [flags] SOCKET")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ecode-agent:", err)
		os.Exit(1)
	}
}
