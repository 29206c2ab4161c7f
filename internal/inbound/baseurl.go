package inbound

import "net/http"

// BaseURL is the scheme and host the caller reached this server at, behind
// a proxy too (X-Forwarded-Proto, X-Forwarded-Host). Ingest URLs are built
// on it, and signatures over the full URL (Twilio's) are checked against it.
func BaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	host := r.Host
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		host = h
	}
	return scheme + "://" + host
}
