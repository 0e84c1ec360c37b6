// Command fakeproviders plays every login provider on one address, each
// below /{provider} (so ECODE_OAUTH_GITHUB_BASE_URL=http://ADDR/github),
// registered as client "{provider}-client" with the secret -secret. Its
// consent pages ask who logs in, for browser tests to fill in.
package main

import (
	"flag"
	"log"
	"net/http"

	"ecode/internal/oauth/oauthtest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18092", "address to listen on")
	secret := flag.String("secret", "e2e-secret", "client secret of every provider")
	flag.Parse()
	mux := http.NewServeMux()
	for _, kind := range oauthtest.Kinds {
		p := oauthtest.NewProvider(kind)
		p.URL, p.ClientID, p.ClientSecret, p.Interactive = "http://"+*addr+"/"+kind, kind+"-client", *secret, true
		mux.Handle("/"+kind+"/", http.StripPrefix("/"+kind, p.Handler()))
	}
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	log.Printf("fake providers on http://%s", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}
