package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/spf13/cobra"

	"github.com/hookline/hookline/internal/client"
	"github.com/hookline/hookline/internal/delivery"
	"github.com/hookline/hookline/internal/hookline"
	"github.com/hookline/hookline/internal/listen"
	"github.com/hookline/hookline/internal/server"
)

// defaultServer is the --server default; listen starts an embedded server
// there when nothing answers.
const defaultServer = "http://127.0.0.1:8080"

// route sends events matching pattern to a local URL.
type route struct {
	pattern string
	url     string
}

type listenOpts struct {
	forwardTo   string
	connectTo   string // --forward-connect-to: events with a tenant
	scheme      string
	forwards    []string
	events      []string
	headers     []string
	skipVerify  bool
	name        string
	printSecret bool
	forget      bool
	sources     []string
}

func (a *app) listenCmd() *cobra.Command {
	var o listenOpts
	cmd := &cobra.Command{
		Use:   "listen --forward-to localhost:8000/webhook",
		Short: "Forward events to a local app, signed as production endpoints get them",
		Long: "Forward events to an app on this machine over an outbound websocket: no public URL, no tunnel.\n\n" +
			"A listen device (--name, default the host name) is a durable subscription: events published while it is\n" +
			"not running are delivered when it starts again, and its signing secret stays the same on this server (another\n" +
			"server, with another data directory, gives the same --name another secret). When no server answers at the\n" +
			"default address, listen starts one in this process.\n\n" +
			"--scheme stripe signs with Stripe-Signature, as Stripe does, so Stripe's libraries verify the events;\n" +
			"--forward-connect-to sends events that carry a tenant (a connected account) apart from the others.\n\n" +
			"--source forwards what a source (hookline sources) captures over the same session, exactly as the provider\n" +
			"sent it, so the app verifies the provider's own signature; requests captured while listen is not running\n" +
			"arrive when it starts again.",
		Example: "  hookline listen --forward-to localhost:8000/webhook\n" +
			"  hookline listen --forward-to 8000 --forward 'invoice.*=localhost:9000/billing' --events 'invoice.*,customer.*'\n" +
			"  hookline listen --source stripe --forward-to localhost:8000/webhook\n" +
			"  hookline listen --scheme stripe --forward-to localhost:8000/webhook/stripe/ --forward-connect-to localhost:8000/webhook/connect/\n" +
			"  export WEBHOOK_SECRET=$(hookline listen --print-secret)",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runListen(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.forwardTo, "forward-to", "", "where to forward events: 8000, /path, host:port/path or a full URL")
	f.StringVar(&o.connectTo, "forward-connect-to", "", "where to forward events that carry a tenant (a connected account); others go to --forward-to")
	f.StringVar(&o.scheme, "scheme", hookline.SchemeStandard, "how forwarded events are signed: standard (webhook-signature) or stripe (Stripe-Signature, for Stripe's libraries); same secret either way")
	f.StringArrayVar(&o.forwards, "forward", nil, "route matching events elsewhere: 'invoice.*=localhost:9000/billing' (repeatable; first match wins)")
	f.StringSliceVar(&o.events, "events", nil, "only these event types (comma-separated; 'invoice.*' wildcards)")
	f.StringArrayVarP(&o.headers, "header", "H", nil, "add a header to every forwarded request: 'Name: value' (repeatable)")
	f.BoolVar(&o.skipVerify, "skip-verify", false, "accept self-signed TLS certificates of the local app")
	f.StringVar(&o.name, "name", "", "device name; its subscription and secret are kept under it (default the host name)")
	f.BoolVar(&o.printSecret, "print-secret", false, "print the device's signing secret and exit")
	f.BoolVar(&o.forget, "forget", false, "remove the device (--name) from the server: its endpoint, waiting deliveries and secret, and exit")
	f.StringArrayVar(&o.sources, "source", nil, "also forward the requests a source captures (name or src_…; repeatable), unchanged, so the app checks the provider's signature")
	return cmd
}

// parseForwardTo turns 8000, /path, host:port/path or a URL into a URL,
// keeping the query string. A bare path goes to localhost on port 80.
func parseForwardTo(flag, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", usagef("%s: empty destination", flag)
	}
	if first, _, _ := strings.Cut(s, "/"); first != "" && strings.Trim(first, "0123456789") == "" && !isPort(first) {
		// 99999 or 99999/webhook: meant as a port, never as a host name.
		return "", usagef("%s %q: port %s is not a number from 1 to 65535", flag, s, first)
	}
	switch {
	case strings.Contains(s, "://"):
	case isPort(s):
		s = "http://localhost:" + s + "/"
	case isPort(strings.SplitN(s, "/", 2)[0]): // 8000/webhook
		s = "http://localhost:" + s
	case strings.HasPrefix(s, "/"):
		s = "http://localhost" + s
	case strings.HasPrefix(s, ":"):
		s = "http://localhost" + s
	default:
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", usagef("%s %q: %v", flag, s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", usagef("%s %q: want 8000, /path, host:port/path or an http(s) URL", flag, s)
	}
	if port := u.Port(); (port != "" || strings.HasSuffix(u.Host, ":")) && !isPort(port) {
		return "", usagef("%s %q: port %q is not a number from 1 to 65535", flag, s, port)
	}
	if !validHost(u.Hostname()) {
		return "", usagef("%s %q: %q is not a host name or IP address", flag, s, u.Hostname())
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}

// validHost reports whether h is an IP address or a DNS host name: dot-
// separated labels of letters, digits and inner '-' (and '_', which local
// setups use), each 1 to 63 long.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535
}

// parseRoutes reads --forward pattern=destination values.
func parseRoutes(values []string) ([]route, error) {
	var rs []route
	for _, v := range values {
		pattern, dest, ok := strings.Cut(v, "=")
		pattern = strings.TrimSpace(pattern)
		if !ok || pattern == "" {
			return nil, usagef("--forward %q: want 'event-pattern=destination', e.g. 'invoice.*=localhost:9000/billing'", v)
		}
		if !hookline.ValidEventPattern(pattern) {
			return nil, usagef("--forward %q: %q is not an event type, a prefix wildcard like invoice.* or *", v, pattern)
		}
		u, err := parseForwardTo("--forward", dest)
		if err != nil {
			return nil, err
		}
		rs = append(rs, route{pattern: pattern, url: u})
	}
	return rs, nil
}

// destination is the first route matching typ, else the fallback.
func destination(routes []route, fallback, typ string) string {
	for _, r := range routes {
		if hookline.MatchEvent([]string{r.pattern}, typ) {
			return r.url
		}
	}
	return fallback
}

// destination is where an event goes: a matching --forward route first,
// then --forward-connect-to for an event with a tenant (a connected
// account), else --forward-to.
func (l *listener) destination(m listen.Message) string {
	fallback := l.fallback
	if m.Tenant != "" && l.connect != "" {
		fallback = l.connect
	}
	return destination(l.routes, fallback, m.EventType)
}

func parseHeaders(flag string, values []string) (http.Header, error) {
	h := http.Header{}
	for _, v := range values {
		name, value, ok := strings.Cut(v, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, usagef("%s %q: want 'Name: value'", flag, v)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

// deviceName is the host name made into a valid device name.
func (a *app) deviceName() string {
	host, _ := a.env.Hostname()
	host, _, _ = strings.Cut(host, ".")
	b := []byte(host)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '-'
		}
	}
	if name := strings.Trim(string(b), "-_"); listen.ValidDeviceName(name) {
		return name
	}
	return "laptop"
}

func (a *app) runListen(cmd *cobra.Command, o listenOpts) error {
	if a.format != "table" && a.format != "json" {
		return a.checkFormat()
	}
	var fallback string
	if o.forwardTo != "" {
		u, err := parseForwardTo("--forward-to", o.forwardTo)
		if err != nil {
			return err
		}
		fallback = u
	}
	var connect string
	if o.connectTo != "" {
		u, err := parseForwardTo("--forward-connect-to", o.connectTo)
		if err != nil {
			return err
		}
		connect = u
	}
	routes, err := parseRoutes(o.forwards)
	if err != nil {
		return err
	}
	if o.forget && o.printSecret {
		return usagef("--forget: give either --forget or --print-secret, not both")
	}
	if fallback == "" && connect == "" && len(routes) == 0 && !o.printSecret && !o.forget {
		return usagef("--forward-to: required (or --forward-connect-to, or at least one --forward): where should events go?")
	}
	if o.scheme != hookline.SchemeStandard && o.scheme != hookline.SchemeStripe {
		return usagef("--scheme %q: must be %s or %s", o.scheme, hookline.SchemeStandard, hookline.SchemeStripe)
	}
	events := o.events
	if len(events) == 0 {
		events = []string{"*"}
	}
	for _, ev := range events {
		if !hookline.ValidEventPattern(ev) {
			return usagef("--events: %q is not an event type, a prefix wildcard like invoice.* or *", ev)
		}
	}
	// --print-secret leaves the device's scheme as it is: the secret is the
	// same either way. A running listen signs as --scheme says, standard
	// unless told.
	set := listen.DeviceSettings{Events: events, Scheme: o.scheme}
	if o.printSecret && !cmd.Flags().Changed("scheme") {
		set.Scheme = ""
	}
	extra, err := parseHeaders("--header", o.headers)
	if err != nil {
		return err
	}
	if o.name == "" {
		o.name = a.deviceName()
	}
	if !listen.ValidDeviceName(o.name) {
		return usagef("--name %q: 1 to 63 letters, digits, '.', '-' or '_'", o.name)
	}
	ctx := cmd.Context()
	out := newLineWriter(a.env, a.format)

	c := a.client()
	embedded := ""
	if !a.serverChosen(cmd) && !serverUp(ctx, a.server) {
		ec, dir, err := a.startEmbedded(ctx)
		if err != nil {
			return err
		}
		c, embedded = ec, dir
		if !o.printSecret && !o.forget {
			out.note("No Hookline server at %s: started one in this process (data in %s)", a.server, dir)
		}
	}
	bound := "the Hookline server at " + c.BaseURL
	if embedded != "" {
		bound += " (started by this listen, data in " + embedded + ")"
	}
	if o.forget {
		return a.forgetDevice(ctx, c, o.name, bound)
	}
	dev, err := ensureDevice(ctx, c, o.name, set)
	if err != nil {
		return flagError(err, map[string]string{"name": "--name", "enabled_events": "--events", "signature_scheme": "--scheme"})
	}
	// A device and its secret live in one server's database: the same
	// --name on another server (another data directory) is another device
	// with another secret. Say which server this is, every time.
	if o.printSecret {
		fmt.Fprintln(a.env.Stdout, dev.Secret)
		fmt.Fprintf(a.env.Stderr, "The signing secret of device %s on %s; another server gives it another one.\n", o.name, bound)
		return nil
	}
	var links []sourceLink
	if len(o.sources) > 0 {
		if links, err = ensureSourceConnections(ctx, c, o.name, o.sources); err != nil {
			return err
		}
	}
	if fallback != "" {
		if connect != "" {
			out.note("Forwarding events without a tenant to %s", fallback)
		} else {
			out.note("Forwarding events to %s", fallback)
		}
	}
	if connect != "" {
		out.note("Forwarding connect events (those with a tenant) to %s", connect)
	}
	for _, r := range routes {
		out.note("Forwarding %s to %s", r.pattern, r.url)
	}
	noteSources(out, fallback, links)
	out.note("Device %s is endpoint %s on %s (resend to it: hookline events resend evt_… --endpoint %s)", o.name, dev.EndpointID, bound, dev.EndpointID)
	out.note("Its secret stays the same on this server; another server (another data directory) gives --name %s another one", o.name)
	if dev.SignatureScheme == hookline.SchemeStripe {
		out.note("Signing with Stripe-Signature, as Stripe does: verify with stripe.Webhook.construct_event or webhook.ConstructEvent")
	}
	out.note("Ready! Your webhook signing secret is %s (^C to quit)", dev.Secret)

	l := &listener{
		c: c, name: o.name, set: set, out: out, routes: routes, fallback: fallback, connect: connect, extra: extra,
		secret: dev.Secret, sources: links,
		http: &http.Client{
			Timeout:       14 * time.Second, // under the server's 15 s per attempt, so the app's slowness is reported as such
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				Proxy:           nil,
				TLSClientConfig: &tls.Config{InsecureSkipVerify: o.skipVerify}, //nolint:gosec // --skip-verify, for local self-signed certificates
			},
		},
	}
	return l.run(ctx)
}

// serverChosen reports whether the user named a server (--server or
// HOOKLINE_URL / HOOKLINE_SERVER), rather than relying on the default.
func (a *app) serverChosen(cmd *cobra.Command) bool {
	f := cmd.Flags().Lookup("server")
	return (f != nil && f.Changed) || a.env.Getenv("HOOKLINE_URL") != "" || a.env.Getenv("HOOKLINE_SERVER") != "" ||
		a.server != defaultServer
}

func serverUp(ctx context.Context, base string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// embeddedDataDir is where listen's embedded server keeps its data: under
// the user's config directory, so devices and their secrets survive.
func (a *app) embeddedDataDir() string {
	dir, err := a.env.UserConfigDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "hookline")
}

// embeddedAPIKey is the key of listen's embedded server, so that commands
// in another terminal (trigger, tail) find it.
func (a *app) embeddedAPIKey() string {
	b, err := os.ReadFile(filepath.Join(a.embeddedDataDir(), server.APIKeyFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// startEmbedded runs a development server at the default address in this
// process until ctx ends, and returns a client for it.
func (a *app) startEmbedded(ctx context.Context) (*client.Client, string, error) {
	dir := a.embeddedDataDir()
	u, _ := url.Parse(defaultServer)
	cfg := server.Config{Addr: u.Host, DataDir: dir, Dev: true, Version: Version, APIKey: a.env.Getenv("HOOKLINE_API_KEY")}
	log := slog.New(slog.NewTextHandler(a.env.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, io.Discard, log) }()
	deadline := time.After(15 * time.Second)
	for !serverUp(ctx, defaultServer) {
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("it stopped at once")
			}
			return nil, "", fmt.Errorf("starting an embedded server at %s: %w", defaultServer, err)
		case <-deadline:
			return nil, "", fmt.Errorf("starting an embedded server at %s: not ready after 15 s", defaultServer)
		case <-time.After(50 * time.Millisecond):
		}
	}
	key := cfg.APIKey
	if key == "" {
		key = a.embeddedAPIKey()
	}
	return client.New(defaultServer, key), dir, nil
}

// ensureDevice creates or fetches the device and sets what it subscribes to.
func ensureDevice(ctx context.Context, c *client.Client, name string, set listen.DeviceSettings) (*listen.Device, error) {
	var d listen.Device
	body := map[string]any{"enabled_events": set.Events}
	if set.Scheme != "" {
		body["signature_scheme"] = set.Scheme
	}
	err := c.JSON(ctx, http.MethodPost, "/v1/listen/devices/"+url.PathEscape(name), nil, body, &d)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// listener is one running listen session.
type listener struct {
	c        *client.Client
	name     string
	set      listen.DeviceSettings
	out      *lineWriter
	routes   []route
	fallback string
	connect  string // --forward-connect-to
	extra    http.Header
	http     *http.Client
	secret   string
	sources  []sourceLink // the --source sources, with their connections
}

// errReplaced ends listen when another one took the device over.
var errReplaced = errors.New("another hookline listen with the same --name connected; this one stops (use a different --name to run both)")

// errForgotten ends listen when its device was removed (listen --forget),
// rather than reconnecting, which would make it again.
var errForgotten = errors.New("the device was forgotten (hookline listen --forget); this listen stops")

// forgetDevice removes the named device from the server c talks to.
func (a *app) forgetDevice(ctx context.Context, c *client.Client, name, bound string) error {
	var res struct {
		EndpointID string `json:"endpoint_id"`
	}
	if err := c.JSON(ctx, http.MethodDelete, "/v1/listen/devices/"+url.PathEscape(name), nil, nil, &res); err != nil {
		var ce *client.Error
		if errors.As(err, &ce) && ce.Status == http.StatusNotFound {
			return usagef("--name %s: no such listen device on %s", name, bound)
		}
		return err
	}
	fmt.Fprintf(a.env.Stdout, "Forgot device %s (endpoint %s) on %s: its waiting deliveries are canceled; listening again with --name %s makes a new device with a new secret\n",
		name, res.EndpointID, bound, name)
	return nil
}

// run connects, serves, and reconnects with backoff until ctx ends.
func (l *listener) run(ctx context.Context) error {
	backoff := 250 * time.Millisecond
	var lostAt time.Time
	for {
		err := l.session(ctx, func() {
			if !lostAt.IsZero() {
				l.out.note("Reconnected after %s", time.Since(lostAt).Round(100*time.Millisecond))
				lostAt = time.Time{}
			}
			backoff = 250 * time.Millisecond
		})
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errReplaced) || errors.Is(err, errForgotten) {
			return err
		}
		if lostAt.IsZero() {
			lostAt = time.Now()
			l.out.note("Lost the connection to %s (%v); reconnecting…", l.c.BaseURL, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// session serves one websocket connection until it fails.
func (l *listener) session(ctx context.Context, connected func()) error {
	// The device is fetched again on every connection: the server may have
	// been reset, and a changed secret must be shown.
	dev, err := ensureDevice(ctx, l.c, l.name, l.set)
	if err != nil {
		return err
	}
	if dev.Secret != l.secret {
		l.secret = dev.Secret
		l.out.note("The device's signing secret is now %s", dev.Secret)
	}
	wsURL := "ws" + strings.TrimPrefix(l.c.BaseURL, "http") + "/v1/listen/devices/" + url.PathEscape(l.name) + "/connect"
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, _, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + l.c.APIKey}},
	})
	cancel()
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(64 << 20)
	connected()

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	// Ping so that a connection that died while the laptop slept is noticed
	// in seconds, not when the OS gives up on it.
	go func() {
		tick := time.NewTicker(10 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-tick.C:
				pctx, pcancel := context.WithTimeout(sctx, 8*time.Second)
				err := conn.Ping(pctx)
				pcancel()
				if err != nil {
					conn.CloseNow()
					return
				}
			}
		}
	}()
	for {
		_, b, err := conn.Read(sctx)
		if err != nil {
			if ctx.Err() != nil {
				conn.Close(websocket.StatusNormalClosure, "listen stopped")
				return nil
			}
			switch websocket.CloseStatus(err) {
			case listen.CloseReplaced:
				return errReplaced
			case listen.CloseForgotten:
				return errForgotten
			}
			return err
		}
		var m listen.Message
		if err := json.Unmarshal(b, &m); err != nil || m.Type != listen.TypeDeliver {
			continue
		}
		// Forward outside the read loop, so pings keep being answered
		// while a slow local app works.
		go func() {
			res := l.forward(sctx, m)
			rb, _ := json.Marshal(res) // plain struct: cannot fail
			wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer wcancel()
			_ = conn.Write(wctx, websocket.MessageText, rb)
		}()
	}
}

// forward POSTs one delivery to the local app and reports what it said.
func (l *listener) forward(ctx context.Context, m listen.Message) listen.Message {
	if m.SourceID != "" {
		return l.forwardRequest(ctx, m)
	}
	now := time.Now()
	l.out.event(now, m.EventType, m.EventID, lineEvent{Attempt: m.Attempt, Tenant: m.Tenant})
	dest := l.destination(m)
	res := listen.Message{Type: listen.TypeResult, ID: m.ID, URL: dest}
	if dest == "" {
		// Only routes were given and none matched: nothing to deliver to,
		// which is the developer's choice, not a failure.
		res.Status = http.StatusNoContent
		switch {
		case m.Tenant == "" && l.connect != "" && l.fallback == "":
			l.out.note("%s [%s] has no tenant and there is no --forward-to; acknowledged without forwarding", m.EventType, m.EventID)
		case m.Tenant != "" && l.connect == "" && l.fallback == "":
			l.out.note("%s [%s] is for tenant %s, and neither --forward-connect-to nor a --forward route takes it; acknowledged without forwarding", m.EventType, m.EventID, m.Tenant)
		default:
			l.out.note("No --forward route matches %s [%s]; acknowledged without forwarding", m.EventType, m.EventID)
		}
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dest, bytes.NewReader(m.Body))
	if err != nil {
		res.Error, res.ErrorKind = err.Error(), hookline.AttemptErrorOther
		return res
	}
	for k, v := range m.Header {
		req.Header[k] = v
	}
	for k, v := range l.extra {
		req.Header[k] = v
	}
	return l.do(req, m, res)
}

// do sends req, built for delivery m, to the local app, prints the
// response line and fills in res with what the app answered.
func (l *listener) do(req *http.Request, m, res listen.Message) listen.Message {
	ev := lineEvent{Attempt: m.Attempt, Method: req.Method}
	start := time.Now()
	resp, err := l.http.Do(req)
	d := time.Since(start)
	res.DurationMS = d.Milliseconds()
	if err != nil {
		res.Error, res.ErrorKind = describeForwardError(err), delivery.ErrorKind(err)
		l.out.response(time.Now(), 0, res.URL, m.EventID, d, res.Error, ev)
		return res
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res.Status, res.Response, res.RetryAfter = resp.StatusCode, string(body), resp.Header.Get("Retry-After")
	l.out.response(time.Now(), resp.StatusCode, res.URL, m.EventID, d, "", ev)
	return res
}

func describeForwardError(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "the local app did not answer within 14 s"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
