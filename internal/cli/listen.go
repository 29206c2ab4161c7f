package cli

import (
	"context"
	"crypto/tls"
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

	"github.com/spf13/cobra"

	application "github.com/hookline/hookline/internal/app"
	"github.com/hookline/hookline/internal/client"
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
	f.BoolVar(&o.printSecret, "print-secret", false, "print the device's signing secret and exit; a new --name registers the device, and events then wait for it (--forget removes it)")
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

// routing is where listen sends a delivery: a matching --forward route
// first, then --forward-connect-to for an event with a tenant (a connected
// account), else --forward-to.
type routing struct {
	routes   []route
	fallback string
	connect  string // --forward-connect-to
}

// destination is the local URL for m, "" when nothing takes it.
func (r routing) destination(m listen.Message) string {
	fallback := r.fallback
	if m.Tenant != "" && r.connect != "" {
		fallback = r.connect
	}
	return destination(r.routes, fallback, m.EventType)
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
	if name := strings.Trim(string(b), "-_"); application.ValidDeviceName(name) {
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
	if !application.ValidDeviceName(o.name) {
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
	dev, err := listen.EnsureDevice(ctx, c, o.name, set)
	if err != nil {
		return flagError(err, map[string]string{"name": "--name", "enabled_events": "--events", "signature_scheme": "--scheme"})
	}
	// A device and its secret live in one server's database: the same
	// --name on another server (another data directory) is another device
	// with another secret. Say which server this is, every time.
	if o.printSecret {
		fmt.Fprintln(a.env.Stdout, dev.Secret)
		fmt.Fprintf(a.env.Stderr, "The %s of device %s on %s; another server gives it another one.\n", listen.KeyNoun(dev.Secret), o.name, bound)
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
	out.note("Ready! Your webhook %s is %s (^C to quit)", listen.KeyNoun(dev.Secret), dev.Secret)

	rt := routing{routes: routes, fallback: fallback, connect: connect}
	dc := &listen.DeviceClient{
		API: c, Name: o.name, Settings: set, Secret: dev.Secret, Route: rt.destination, Header: extra,
		Display: &listenDisplay{routing: rt, out: out, sources: links},
		Local: &http.Client{
			Timeout:       14 * time.Second, // under the server's 15 s per attempt, so the app's slowness is reported as such
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				Proxy:           nil,
				TLSClientConfig: &tls.Config{InsecureSkipVerify: o.skipVerify}, //nolint:gosec // --skip-verify, for local self-signed certificates
			},
		},
	}
	return dc.Run(ctx)
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

// listenDisplay prints what the device client does (listen.Display).
type listenDisplay struct {
	routing
	out     *lineWriter
	sources []sourceLink // the --source sources, with their connections
}

// Arrived prints an event's line, or a captured request's.
func (d *listenDisplay) Arrived(m listen.Message) {
	if m.SourceID != "" {
		d.out.request(time.Now(), d.sourceName(m.SourceID), m.Method, m.EventType, m.EventID, m.Attempt)
		return
	}
	d.out.event(time.Now(), m.EventType, m.EventID, lineEvent{Attempt: m.Attempt, Tenant: m.Tenant})
}

// Answered prints the local app's answer.
func (d *listenDisplay) Answered(m, res listen.Message, method string, took time.Duration) {
	d.out.response(time.Now(), res.Status, res.URL, m.EventID, took, res.Error, lineEvent{Attempt: m.Attempt, Method: method})
}

// Unrouted says why a delivery was acknowledged without forwarding.
func (d *listenDisplay) Unrouted(m listen.Message) {
	switch {
	case m.SourceID != "":
		d.out.note("No --forward route matches %s [%s]; acknowledged without forwarding", m.EventType, m.EventID)
	case m.Tenant == "" && d.connect != "" && d.fallback == "":
		d.out.note("%s [%s] has no tenant and there is no --forward-to; acknowledged without forwarding", m.EventType, m.EventID)
	case m.Tenant != "" && d.connect == "" && d.fallback == "":
		d.out.note("%s [%s] is for tenant %s, and neither --forward-connect-to nor a --forward route takes it; acknowledged without forwarding", m.EventType, m.EventID, m.Tenant)
	default:
		d.out.note("No --forward route matches %s [%s]; acknowledged without forwarding", m.EventType, m.EventID)
	}
}

// Note prints a sentence.
func (d *listenDisplay) Note(format string, args ...any) { d.out.note(format, args...) }
