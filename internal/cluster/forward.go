package cluster

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"ecode/internal/httpx"
)

// Headers of a forwarded request: which server sent it and when, signed,
// the client it came from, which the holder takes as the request's remote
// address (allowlists, rate limits and logs see the person, not the peer),
// and whether it came over TLS.
const (
	headerPeer   = "X-Ecode-Peer"
	headerClient = "X-Ecode-Client"
	headerProto  = "X-Ecode-Proto"
)

// skew is how far a peer's signed time may be from this server's.
const skew = time.Minute

// Forward serves a request for a project held by another server by
// forwarding it there, WebSockets and streams included; project says
// which project a request is for, if any. trusted are the proxies whose
// X-Forwarded-For names the client. A request a peer forwarded is served
// here whoever holds the project now: it never travels twice.
func (c *Cluster) Forward(project func(r *http.Request) (string, bool), trusted []netip.Prefix, next http.Handler) http.Handler {
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			target := pr.In.Context().Value(targetKey{}).(*url.URL)
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // previews and deployments are told apart by host
			client, proto := httpx.ClientIP(pr.In, trusted), "http"
			if pr.In.TLS != nil {
				proto = "https"
			}
			pr.Out.Header.Set(headerClient, client)
			pr.Out.Header.Set(headerProto, proto)
			pr.Out.Header.Set(headerPeer, c.sign(time.Now(), pr.In.Method, pr.In.Host, pr.In.URL.Path, client, proto))
		},
		FlushInterval: -1, // logs and events stream as they come
		ErrorLog:      slog.NewLogLogger(c.opts.Log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			id, _ := r.Context().Value(projectKey{}).(string)
			c.forget(id)
			c.opts.Log.Warn("cluster: forward to the project's server", "project_id", id, "err", err)
			w.Header().Set("Retry-After", "1")
			httpx.WriteError(w, http.StatusServiceUnavailable, "holder_unavailable",
				"The server running this project is not answering; another takes it over within seconds. Try again.")
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sig := r.Header.Get(headerPeer); sig != "" {
			client, proto := r.Header.Get(headerClient), r.Header.Get(headerProto)
			r.Header.Del(headerPeer)
			r.Header.Del(headerClient)
			r.Header.Del(headerProto)
			if c.verify(sig, r.Method, r.Host, r.URL.Path, client, proto) {
				r.RemoteAddr = net.JoinHostPort(client, "0")
				if proto == "https" && r.TLS == nil {
					// The peer terminated the client's TLS: the request
					// is as secure as if it had come here (no redirect
					// to https, secure cookies).
					r.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: r.Host}
				}
				next.ServeHTTP(w, r)
				return
			}
			c.opts.Log.Warn("cluster: a forwarded request with a bad signature, served as any other", "remote", r.RemoteAddr)
		}
		id, ok := project(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		peer, mine, err := c.Holder(r.Context(), id)
		if err != nil {
			c.opts.Log.Error("cluster: find a project's server", "project_id", id, "err", err)
			httpx.WriteError(w, http.StatusServiceUnavailable, "holder_unknown", "The platform could not tell which server runs this project. Try again.")
			return
		}
		if mine {
			next.ServeHTTP(w, r)
			return
		}
		target, err := url.Parse(peer)
		if err != nil {
			c.opts.Log.Error("cluster: a peer's URL", "url", peer, "err", err)
			httpx.WriteError(w, http.StatusServiceUnavailable, "holder_unknown", "The server running this project has no usable address.")
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), targetKey{}, target), projectKey{}, id)
		proxy.ServeHTTP(w, r.WithContext(ctx))
	})
}

type targetKey struct{}
type projectKey struct{}

// sign proves a forwarded request came from a server that holds the key,
// for this method, host, path, client and protocol, at t.
func (c *Cluster) sign(t time.Time, method, host, path, client, proto string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return c.opts.ServerID + "." + ts + "." + c.mac(c.opts.ServerID, ts, method, host, path, client, proto)
}

func (c *Cluster) mac(parts ...string) string {
	m := hmac.New(sha256.New, c.opts.Key)
	m.Write([]byte(strings.Join(parts, "\n")))
	return hex.EncodeToString(m.Sum(nil))
}

func (c *Cluster) verify(sig, method, host, path, client, proto string) bool {
	if _, err := netip.ParseAddr(client); err != nil {
		return false
	}
	// The server id may hold dots; the time and the MAC do not.
	j := strings.LastIndex(sig, ".")
	i := strings.LastIndex(sig[:max(j, 0)], ".")
	if i <= 0 || j <= i {
		return false
	}
	server, ts, mac := sig[:i], sig[i+1:j], sig[j+1:]
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > skew {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(c.mac(server, ts, method, host, path, client, proto)))
}

// errNoKey is New's answer to a cluster without a key to sign with.
var errNoKey = errors.New("cluster: servers need a shared key to prove forwarded requests")
