package project

import (
	"net"
	"net/url"
	"strings"
)

// A project's own origins, its preview and its deployment, are named
// {slug}--{owner}.{domain}, each under a domain of its own, so that what
// runs there never shares an origin with the platform or with another.

// SiteURL is where p is seen under domain, with the scheme and port of the
// platform's public URL.
func SiteURL(publicURL, domain string, p *Project) string {
	scheme, port := "http", ""
	if u, err := url.Parse(publicURL); err == nil && u.Scheme != "" {
		scheme = u.Scheme
		if u.Port() != "" {
			port = ":" + u.Port()
		}
	}
	return scheme + "://" + p.Slug + "--" + p.Owner + "." + domain + port + "/"
}

// ParseSiteHost reads owner and slug from a request's Host under domain.
func ParseSiteHost(host, domain string) (owner, slug string, ok bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	sub, found := strings.CutSuffix(strings.ToLower(host), "."+domain)
	if !found || strings.Contains(sub, ".") {
		return "", "", false
	}
	slug, owner, ok = strings.Cut(sub, "--")
	return owner, slug, ok && owner != "" && slug != ""
}
