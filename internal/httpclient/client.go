// Package httpclient is the HTTP/1.1 client deliveries are sent with.
//
// net/http's Transport hands every request to a writer goroutine and every
// response back from a reader goroutine of its connection. For a webhook,
// one small POST and one small answer, those hand-offs cost about as much as
// the two system calls that do the work: on loopback a delivery took 60 µs
// of CPU through the Transport and 40 µs through this client. Here a request
// runs on its caller's goroutine over a pooled connection; the request is
// written in one write, and the answer is parsed by net/http's own
// ReadResponse.
//
// It speaks HTTP/1.1 only (over TLS too: ALPN offers http/1.1), follows no
// redirects and uses no proxy, which is what deliveries want.
package httpclient

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/idna"

	"golang.org/x/net/http/httpguts"
)

// Client sends requests over pooled connections. Its zero value is not
// usable; make one with New.
type Client struct {
	dial         func(ctx context.Context, network, addr string) (net.Conn, error)
	tls          *tls.Config
	maxIdle      int
	maxIdleTotal int
	idleTimeout  time.Duration
	checkAfter   time.Duration

	tmu     sync.RWMutex
	targets map[targetID]*target // worked out once per host, guarded by tmu

	mu        sync.Mutex
	idle      map[string][]*conn // by target key, most recently used last
	idleCount int
	lastPrune time.Time
}

// Options configures a Client. Zero fields take the defaults noted.
type Options struct {
	// Dial opens connections (a net.Dialer's DialContext); the delivery
	// engine passes one that refuses private addresses at connect time.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLS is the base configuration of https connections; ServerName is
	// set per host.
	TLS *tls.Config
	// MaxIdlePerHost bounds the idle connections kept per host (256).
	MaxIdlePerHost int
	// MaxIdle bounds the idle connections kept in all (1024).
	MaxIdle int
	// IdleTimeout closes connections idle this long (90 s).
	IdleTimeout time.Duration
	// CheckIdleAfter is how long a connection must have been idle for the
	// pool to check it is still open before reusing it (1 s; negative:
	// always). The check costs a system call, which a busy client reusing
	// connections within milliseconds would pay on every request for
	// nothing: servers close idle connections, or answer 408 before they do,
	// after seconds, and a request that finds its connection closed
	// unanswered is sent again on a new one (see Do).
	CheckIdleAfter time.Duration
}

// New returns a client.
func New(opts Options) *Client {
	if opts.Dial == nil {
		opts.Dial = (&net.Dialer{}).DialContext
	}
	if opts.TLS == nil {
		opts.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if opts.MaxIdlePerHost <= 0 {
		opts.MaxIdlePerHost = 256
	}
	if opts.MaxIdle <= 0 {
		opts.MaxIdle = 1024
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 90 * time.Second
	}
	if opts.CheckIdleAfter == 0 {
		opts.CheckIdleAfter = time.Second
	}
	tc := opts.TLS.Clone()
	tc.NextProtos = []string{"http/1.1"}
	return &Client{dial: opts.Dial, tls: tc, maxIdle: opts.MaxIdlePerHost, maxIdleTotal: opts.MaxIdle,
		idleTimeout: opts.IdleTimeout, checkAfter: opts.CheckIdleAfter, idle: map[string][]*conn{}}
}

// Request is one request to send.
type Request struct {
	Method string // POST when empty
	URL    *url.URL
	// Header is sent as it is, but for Host, Content-Length,
	// Transfer-Encoding and Connection, which the client writes itself. An
	// empty User-Agent is left out.
	Header http.Header
	Body   []byte
	// Deadline, when set, is when the exchange must be over, connecting
	// included, as if it were the context's deadline. Unlike one in the
	// context it arms no timer of its own: the connection's deadline does
	// the work.
	Deadline time.Time
}

// Response is the start of an answer.
type Response struct {
	Status int
	Header http.Header
	// Body is the first bytes of the answer's body, at most the limit Do
	// was given.
	Body []byte
}

// drainLimit is how much of a body past what the caller keeps is read to
// reuse the connection; a longer body closes it instead.
const drainLimit = 64 << 10

// maxHeaderBytes bounds an answer's status line and headers, and
// maxInformational the 1xx answers before the real one, so that an endpoint
// cannot make an attempt hold memory or go on until its timeout.
const (
	maxHeaderBytes   = 1 << 20
	maxInformational = 5
)

// Do sends req and returns the answer with up to bodyLimit bytes of its
// body. ctx and req.Deadline bound the whole exchange, connecting included.
// A request that fails on a pooled connection before any answer arrived
// (the server had closed it) is sent once more, on a new connection: at
// most twice in all.
func (c *Client) Do(ctx context.Context, req *Request, bodyLimit int) (*Response, error) {
	u := req.URL
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("unsupported URL %q: want http:// or https:// and a host", req.URL)
	}
	if err := check(req); err != nil {
		return nil, err
	}
	t, err := c.target(u)
	if err != nil {
		return nil, err
	}
	deadline := req.Deadline
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	cn, err := c.get(ctx, t, deadline)
	if err != nil {
		return nil, err
	}
	resp, answered, err := c.roundTrip(ctx, cn, t, req, deadline, bodyLimit)
	if err != nil && cn.reused && !answered && cutOff(ctx, err, deadline) == nil {
		// The pooled connection was closed under us: once more, on a new one.
		if cn, err = c.connect(ctx, t, deadline); err == nil {
			resp, _, err = c.roundTrip(ctx, cn, t, req, deadline, bodyLimit)
		}
	}
	if err != nil {
		if e := cutOff(ctx, err, deadline); e != nil {
			return nil, e
		}
		return nil, err
	}
	return resp, nil
}

// cutOff returns the context's error if the exchange ended because of it,
// or context.DeadlineExceeded if it ended at the deadline (the
// connection's deadline, or the context's own timer a moment later).
func cutOff(ctx context.Context, err error, deadline time.Time) error {
	if e := ctx.Err(); e != nil {
		return e
	}
	if !deadline.IsZero() && (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)) {
		return context.DeadlineExceeded
	}
	return nil
}

// roundTrip makes one exchange on cn, by deadline unless it is zero, and
// pools or closes it. answered reports whether any of an answer arrived:
// the request was read, and sending it again would deliver it twice.
func (c *Client) roundTrip(ctx context.Context, cn *conn, t *target, req *Request, deadline time.Time, bodyLimit int) (resp *Response, answered bool, err error) {
	// The deadline is left in place when the connection goes back to the
	// pool: the next exchange sets its own, and the liveness check does
	// not look at it.
	cn.nc.SetDeadline(deadline)
	// A canceled context cuts the exchange off through the deadline.
	stop := func() bool { return true }
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { cn.nc.SetDeadline(time.Unix(1, 0)) })
	}
	keep := false
	defer func() {
		if stop() && keep {
			c.put(cn)
		} else {
			cn.nc.Close()
		}
	}()

	writeHead(cn.bw, req, t.host)
	cn.bw.Write(req.Body)
	if err := cn.bw.Flush(); err != nil {
		return nil, false, fmt.Errorf("sending request: %w", err)
	}
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	hr := &http.Request{Method: method}
	var r *http.Response
	cn.lim.left = maxHeaderBytes
	for informational := 0; ; informational++ {
		if _, err := cn.br.Peek(1); err != nil {
			return nil, answered, fmt.Errorf("reading response: %w", err)
		}
		answered = true
		if informational == maxInformational {
			return nil, true, fmt.Errorf("reading response: more than %d informational (1xx) answers", maxInformational)
		}
		r, err = http.ReadResponse(cn.br, hr)
		if err != nil {
			return nil, true, fmt.Errorf("reading response: %w", err)
		}
		// 1xx answers (103 Early Hints) come before the real one; 101
		// would switch protocols, which a POST never asks for.
		if r.StatusCode >= 200 || r.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	cn.lim.left = -1 // the body is bounded by what is read of it below
	var body []byte
	if bodyLimit > 0 && r.ContentLength != 0 {
		body, err = readUpTo(r.Body, make([]byte, 0, min(bodyLimit, 512)), bodyLimit)
	}
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, io.LimitReader(r.Body, drainLimit+1))
		keep = err == nil && n <= drainLimit && !r.Close && r.StatusCode != http.StatusSwitchingProtocols && cn.br.Buffered() == 0
	}
	r.Body.Close()
	// The answer stands even when its body broke off: the connection is
	// then closed.
	return &Response{Status: r.StatusCode, Header: r.Header, Body: body}, true, nil
}

// readUpTo appends up to limit bytes of r to b.
func readUpTo(r io.Reader, b []byte, limit int) ([]byte, error) {
	for len(b) < limit {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):min(cap(b), limit)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// check refuses a request that cannot be written as it is: a method or
// header name that is not a token, a header value with a line break.
func check(req *Request) error {
	if req.Method != "" && !httpguts.ValidHeaderFieldName(req.Method) {
		return fmt.Errorf("invalid method %q", req.Method)
	}
	for name, values := range req.Header {
		if !httpguts.ValidHeaderFieldName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				return fmt.Errorf("invalid value of header %s", name)
			}
		}
	}
	return nil
}

// writeHead writes the request line and header block of req, which check
// accepted.
func writeHead(w *bufio.Writer, req *Request, host string) {
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(req.URL.RequestURI())
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(host)
	w.WriteString("\r\n")
	for name, values := range req.Header {
		switch http.CanonicalHeaderKey(name) {
		case "Host", "Content-Length", "Transfer-Encoding", "Connection":
			continue
		case "User-Agent":
			if len(values) == 0 || values[0] == "" {
				continue
			}
		}
		for _, v := range values {
			w.WriteString(name)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	if len(req.Body) > 0 || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		var n [20]byte
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(n[:0], int64(len(req.Body)), 10))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
}

// target is where requests to one scheme://host go, host names in ASCII
// (IDNA), as net/http would send them.
type target struct {
	key        string // the pool's: scheme://addr
	addr       string // to dial: host:port, the port defaulted
	host       string // the Host header: no IPv6 zone, no empty port
	serverName string // TLS server name; empty for http
}

// targetID is what a target is worked out from.
type targetID struct{ scheme, host string }

// target returns where requests to u go, worked out once per host.
func (c *Client) target(u *url.URL) (*target, error) {
	id := targetID{u.Scheme, u.Host}
	c.tmu.RLock()
	t := c.targets[id]
	c.tmu.RUnlock()
	if t != nil {
		return t, nil
	}
	name := u.Hostname()
	if !ascii(name) {
		var err error
		if name, err = idna.Lookup.ToASCII(name); err != nil {
			return nil, fmt.Errorf("host %q: %w", u.Hostname(), err)
		}
	}
	port := u.Port()
	host := name
	if strings.Contains(name, ":") { // IPv6: bracketed, without a zone
		if i := strings.IndexByte(host, '%'); i >= 0 {
			host = host[:i]
		}
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	} else if port = "80"; u.Scheme == "https" {
		port = "443"
	}
	t = &target{addr: net.JoinHostPort(name, port), host: host}
	t.key = u.Scheme + "://" + t.addr
	if u.Scheme == "https" {
		t.serverName = name
		if i := strings.IndexByte(name, '%'); i >= 0 {
			t.serverName = name[:i]
		}
	}
	c.tmu.Lock()
	if c.targets == nil || len(c.targets) >= 4096 { // hosts no longer sent to go too
		c.targets = map[targetID]*target{}
	}
	c.targets[id] = t
	c.tmu.Unlock()
	return t, nil
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// limitedReader is a connection's reader, bounded while an answer's headers
// are read.
type limitedReader struct {
	r    io.Reader
	left int64 // bytes that may still be read; negative: no bound
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left == 0 {
		return 0, fmt.Errorf("answer's headers are longer than %d bytes", maxHeaderBytes)
	}
	if l.left > 0 && int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	if l.left > 0 {
		l.left -= int64(n)
	}
	return n, err
}

// conn is a connection and its buffers.
type conn struct {
	nc     net.Conn        // requests go over this (TLS or TCP)
	raw    syscall.RawConn // the TCP connection's, to check an idle one is alive; nil if unknown
	lim    *limitedReader  // under br
	br     *bufio.Reader
	bw     *bufio.Writer
	key    string // the pool's: scheme://host:port
	idleAt time.Time
	reused bool // taken from the pool
}

// get returns an idle connection to t that is still open, or a new one
// made by deadline.
func (c *Client) get(ctx context.Context, t *target, deadline time.Time) (*conn, error) {
	now := time.Now()
	c.mu.Lock()
	for {
		l := c.idle[t.key]
		if len(l) == 0 {
			break
		}
		cn := l[len(l)-1]
		l[len(l)-1] = nil
		c.idle[t.key] = l[:len(l)-1]
		c.idleCount--
		if idle := now.Sub(cn.idleAt); idle < c.idleTimeout && (idle < c.checkAfter || alive(cn.raw)) {
			c.mu.Unlock()
			cn.reused = true
			return cn, nil
		}
		cn.nc.Close()
	}
	c.mu.Unlock()
	return c.connect(ctx, t, deadline)
}

// connect opens a connection to t by deadline unless it is zero.
func (c *Client) connect(ctx context.Context, t *target, deadline time.Time) (*conn, error) {
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	nc, err := c.dial(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	cn := &conn{nc: nc, key: t.key}
	if sc, ok := nc.(syscall.Conn); ok {
		cn.raw, _ = sc.SyscallConn()
	}
	if t.serverName != "" {
		cfg := c.tls.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = t.serverName
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, err
		}
		cn.nc = tc
	}
	cn.lim = &limitedReader{r: cn.nc, left: -1}
	cn.br = bufio.NewReaderSize(cn.lim, 4<<10)
	cn.bw = bufio.NewWriterSize(cn.nc, 4<<10)
	return cn, nil
}

// put keeps cn for the next request to its host. Past the limits it closes
// the oldest idle connection of the host, or of another host when the
// total is reached; now and then it closes those idle too long.
func (c *Client) put(cn *conn) {
	now := time.Now()
	cn.idleAt = now
	var closing []*conn
	c.mu.Lock()
	l := append(c.idle[cn.key], cn)
	c.idleCount++
	if len(l) > c.maxIdle {
		closing = append(closing, l[0])
		l = l[1:]
		c.idleCount--
	}
	c.idle[cn.key] = l
	if c.idleCount > c.maxIdleTotal {
		if oldest := c.oldestIdle(); oldest != "" {
			closing = append(closing, c.idle[oldest][0])
			c.idle[oldest] = c.idle[oldest][1:]
			c.idleCount--
		}
	}
	if now.Sub(c.lastPrune) > c.idleTimeout/2 {
		c.lastPrune = now
		for k, l := range c.idle {
			kept := l[:0]
			for _, cn := range l {
				if now.Sub(cn.idleAt) < c.idleTimeout {
					kept = append(kept, cn)
				} else {
					closing = append(closing, cn)
					c.idleCount--
				}
			}
			if len(kept) == 0 {
				delete(c.idle, k)
			} else {
				c.idle[k] = kept
			}
		}
	}
	c.mu.Unlock()
	for _, cn := range closing {
		cn.nc.Close()
	}
}

// oldestIdle returns the key whose first idle connection has been idle
// longest. The caller holds mu.
func (c *Client) oldestIdle() string {
	var key string
	var at time.Time
	for k, l := range c.idle {
		if len(l) > 0 && (key == "" || l[0].idleAt.Before(at)) {
			key, at = k, l[0].idleAt
		}
	}
	return key
}

// CloseIdle closes every idle connection.
func (c *Client) CloseIdle() {
	c.mu.Lock()
	idle := c.idle
	c.idle = map[string][]*conn{}
	c.idleCount = 0
	c.mu.Unlock()
	for _, l := range idle {
		for _, cn := range l {
			cn.nc.Close()
		}
	}
}
