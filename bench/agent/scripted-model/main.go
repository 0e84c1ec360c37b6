// Command scripted-model serves the Anthropic Messages API from scripts
// (package agenttest), for browser tests and the agent's eval harness:
// point ECODE_ANTHROPIC_BASE_URL at it.
package main

import (
	"flag"
	"log"
	"net/http"

	"ecode/bench/agent/evals"
	"ecode/internal/agent/agenttest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18091", "address to listen on")
	flag.Parse()
	m := &agenttest.Model{Scripts: append(agenttest.All(), evals.Scripts()...), Completion: agenttest.Completion}
	log.Printf("scripted model on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, m))
}
