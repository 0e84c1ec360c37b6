// A small web server using only Go's standard library.
package main

import (
	"encoding/json"
	"html/template"
	"log"
	"net/http"
	"os"
	"time"
)

var started = time.Now()

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Hello from Go</title>
  <style>
    body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; color: #1f2933; }
    h1 { color: #00add8; }
    code { background: #f0f4f8; padding: .1rem .3rem; border-radius: 4px; }
  </style>
</head>
<body>
  <h1>Hello from Go</h1>
  <p>This page is served by <code>net/http</code>. Edit <code>main.go</code> and press Run again.</p>
  <ul>
    <li><a href="/api/hello?name=Gopher">/api/hello?name=Gopher</a>: a JSON greeting</li>
    <li><a href="/health">/health</a>: a health check</li>
  </ul>
  <p>Up for {{.}}.</p>
</body>
</html>
`))

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", home)
	mux.HandleFunc("GET /api/hello", hello)
	mux.HandleFunc("GET /health", health)

	log.Printf("Listening on http://localhost:%s", port)
	log.Fatal(http.ListenAndServe("0.0.0.0:"+port, logRequests(mux)))
}

func home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	page.Execute(w, time.Since(started).Round(time.Second))
}

func hello(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "world"
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "Hello, " + name + "!"})
}

func health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// logRequests prints one line per request to the console.
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		log.Printf("%s %s %s", r.Method, r.URL.Path, time.Since(start).Round(time.Microsecond))
	})
}
