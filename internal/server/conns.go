package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/netutil"

	"github.com/hookline/hookline/internal/hookline"
)

// This file bounds how long a client may hold a connection while sending
// a request body: the HTTP server's own timeouts cover headers and idle
// keep-alive, not bodies, and a stranger trickling bodies into /in/ could
// otherwise hold connections (and their buffers) for ever.

// Connections is what `hookline serve` is told about the connections it
// accepts.
type Connections struct {
	// MaxConnections caps the connections open at once (1024 when 0):
	// past it the server stops accepting until one closes, so the kernel's
	// backlog holds the rest instead of the process's file descriptors.
	MaxConnections int
	// Body bounds the reading of each request's body.
	Body BodyLimits
}

// Defaults of Connections.
const (
	DefaultMaxConnections = 1024
	DefaultBodyTimeout    = 30 * time.Second
	DefaultMinBodyRate    = 16 << 10
)

func (c *Connections) validate() error {
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxConnections < 1 {
		return errors.New("--max-connections: must be at least 1")
	}
	if c.Body.Short < 0 || c.Body.Short > 0 && c.Body.Short < time.Second {
		return errors.New("--body-timeout: must be at least 1s")
	}
	if c.Body.MinRate > 1<<30 {
		return errors.New("--min-body-rate: at most 1GiB (a second)")
	}
	c.Body = c.Body.withDefaults()
	return nil
}

// listen caps ln at MaxConnections.
func (c *Connections) listen(ln net.Listener) net.Listener {
	return netutil.LimitListener(ln, c.MaxConnections)
}

// BodyLimits bound the reading of request bodies.
type BodyLimits struct {
	// Short is the longest a body of an /in/ or /v1/ request may take to
	// arrive, from the end of its headers (30 s). Machines send those.
	Short time.Duration
	// Long is the same for everything else: dashboard forms (2 min).
	Long time.Duration
	// MinRate is the slowest a body may arrive once its first Grace has
	// passed, in bytes a second on average since its headers (16 KiB/s):
	// a body of 1 byte a second is cut after Grace, not after Short.
	MinRate uint64
	// Grace is how long a body may take before MinRate applies (5 s).
	Grace time.Duration
}

func (l BodyLimits) withDefaults() BodyLimits {
	if l.Short <= 0 {
		l.Short = DefaultBodyTimeout
	}
	if l.Long <= 0 {
		l.Long = 2 * time.Minute
	}
	if l.MinRate == 0 {
		l.MinRate = DefaultMinBodyRate
	}
	if l.Grace <= 0 {
		l.Grace = 5 * time.Second
	}
	return l
}

// bodyDeadlines wraps h so that each request's body is read under a
// deadline (BodyLimits). A request without a body is left alone: the
// long-lived ones (the live tail, listen devices' WebSockets) have none.
// Once the body is read to its end the deadline is lifted, so that the
// server's background read, which watches for the client going away, is
// not cut; a body left unread keeps it, and the server's next request on
// the connection sets its own.
func bodyDeadlines(h http.Handler, limits BodyLimits, now func() time.Time) http.Handler {
	limits = limits.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			h.ServeHTTP(w, r)
			return
		}
		max := limits.Long
		if strings.HasPrefix(r.URL.Path, "/in/") || strings.HasPrefix(r.URL.Path, "/v1/") {
			max = limits.Short
		}
		start := now()
		b := &deadlineBody{body: r.Body, rc: http.NewResponseController(w), limits: limits, start: start,
			end: start.Add(max), max: max, now: now}
		if err := b.extend(); err != nil {
			h.ServeHTTP(w, r) // the connection cannot take deadlines (HTTP/2 over h2c, a test recorder)
			return
		}
		// A shallow copy carries the body: the server still sees its own
		// body type on the original request and, after a handler that left
		// the body unread, reads what remains under the deadline still set
		// (or closes the connection) rather than discarding it unbounded.
		r2 := r.WithContext(r.Context())
		r2.Body = b
		h.ServeHTTP(w, r2)
	})
}

// deadlineBody is a request body whose connection read deadline moves
// with what has arrived: start + Grace + read/MinRate, never past end.
type deadlineBody struct {
	body   io.ReadCloser
	rc     *http.ResponseController
	limits BodyLimits
	start  time.Time
	end    time.Time
	max    time.Duration
	now    func() time.Time
	read   int64
	done   bool
}

func (b *deadlineBody) extend() error {
	d := b.start.Add(b.limits.Grace + time.Duration(float64(b.read)/float64(b.limits.MinRate)*float64(time.Second)))
	if d.After(b.end) {
		d = b.end
	}
	return b.rc.SetReadDeadline(d)
}

// lift ends the body's deadline once the body is read to its end.
func (b *deadlineBody) lift() {
	if !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	if b.done {
		return b.body.Read(p)
	}
	n, err := b.body.Read(p)
	b.read += int64(n)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.done = true // the connection is spent; the server closes it
		return n, b.timeout()
	case err == io.EOF:
		b.lift()
	case n > 0:
		_ = b.extend()
	}
	return n, err
}

func (b *deadlineBody) timeout() error {
	return &hookline.Error{Code: hookline.ETIMEOUT, Message: fmt.Sprintf(
		"the request body arrived too slowly: %d bytes in %s; a body must arrive within %s, at %s/s or faster after the first %s",
		b.read, b.now().Sub(b.start).Round(time.Millisecond), b.max, hookline.FormatBytes(int64(b.limits.MinRate)), b.limits.Grace)}
}

func (b *deadlineBody) Close() error { return b.body.Close() }
