package evals

// Go on net/http: the slow one, as a project's first run compiles the
// standard library.
func goCases() []Case {
	return []Case{{
		Name: "go-text-service",
		Prompt: "Write a Go web service using only net/http: GET /api/reverse?s=... returns {\"input\", \"reversed\"}, reversing by " +
			"characters so that héllo becomes olléh, and a missing s gets 400 with {\"error\"}; GET /api/time returns the server's time " +
			"in RFC 3339 as {\"time\"}; / is a short HTML page describing both.",
		Checks: []Check{
			{Path: "/api/reverse?s=h%C3%A9llo", Contains: []string{`"reversed":"olléh"`}},
			{Path: "/api/reverse", Status: 400, Contains: []string{`"error"`}},
			{Path: "/api/time", Contains: []string{`"time":"20`}},
			{Path: "/", Contains: []string{"/api/reverse"}, Headers: map[string]string{"Content-Type": "text/html"}},
		},
		Files: []string{"main.go", "go.mod"},
		Solution: Solution{
			Match: "go web service using only net/http",
			Intro: "A Go module with one main.go on net/http.",
			Files: []File{{"go.mod", "module example.com/textservice\n\ngo 1.26\n"}, {"main.go", goTextService}},
			Run:   "go run .", Check: "/api/reverse?s=abc",
			Summary:  "A Go text service: reverse a string, tell the time.",
			Features: []string{"GET /api/reverse, Unicode-aware", "GET /api/time in RFC 3339", "An HTML page at /"},
		},
	}}
}

const goTextService = `// A small text service on the standard library.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"slices"
	"time"
)

const home = ` + "`" + `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Text service</title></head>
<body>
<h1>Text service</h1>
<ul>
  <li><a href="/api/reverse?s=h%C3%A9llo">/api/reverse?s=héllo</a> reverses a string by characters</li>
  <li><a href="/api/time">/api/time</a> tells the server's time</li>
</ul>
</body></html>
` + "`" + `

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(home))
	})
	mux.HandleFunc("GET /api/reverse", reverse)
	mux.HandleFunc("GET /api/time", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"time": time.Now().Format(time.RFC3339)})
	})
	log.Printf("listening on %s", port)
	log.Fatal(http.ListenAndServe("0.0.0.0:"+port, mux))
}

// reverse reverses runes, not bytes, so multi-byte characters survive.
func reverse(w http.ResponseWriter, r *http.Request) {
	s, ok := r.URL.Query()["s"]
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "s is required"})
		return
	}
	runes := []rune(s[0])
	slices.Reverse(runes)
	writeJSON(w, http.StatusOK, map[string]string{"input": s[0], "reversed": string(runes)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
`
